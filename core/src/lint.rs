//! What a scorecard can and cannot do: reachable scores, segments,
//! default probabilities, personas and decisions, and bands whose points
//! run the wrong way.
//!
//! Every input maps to one cell of a small grid: a DSR interval (no income,
//! or between two consecutive edges of the DSR bands and decision limits),
//! an ACR interval (no amount, or between ACR edges) and a tenor band. The
//! lint evaluates one representative application per cell with the real
//! engine, so it cannot disagree with [`Scorecard::evaluate`].

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Serialize;

use crate::exact::Amount;
use crate::scorecard::{Application, Scorecard};

#[derive(Debug, Serialize, PartialEq)]
pub struct Lint {
    pub score_range: ScoreRange,
    pub reachable_scores: Vec<i32>,
    pub unreachable_segments: Vec<String>,
    pub unreachable_default_probabilities: Vec<String>,
    pub unreachable_personas: Vec<String>,
    /// Decision → the reason code lists it can come with.
    pub decisions: BTreeMap<String, Vec<Vec<String>>>,
    /// Decision → the codes it always comes with (e.g. on the reference
    /// scorecard, review only ever with score_under_550).
    pub decisions_always_with: BTreeMap<String, Vec<String>>,
    pub unreachable_decisions: Vec<String>,
    pub unreachable_decision_codes: Vec<String>,
    pub unreachable_bands: Vec<String>,
    pub non_monotonic: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq, Clone, Copy)]
pub struct ScoreRange {
    pub min: i32,
    pub max: i32,
}

/// Representative ratios for every interval between `edges` (and the edges
/// themselves), all positive: below the lowest, on each, between, above.
fn representatives(edges: &[Decimal]) -> Vec<Decimal> {
    let mut e: Vec<Decimal> = edges.iter().copied().filter(|e| *e > Decimal::ZERO).collect();
    e.sort();
    e.dedup();
    let mut out = Vec::new();
    match e.first() {
        Some(first) => out.push(*first / Decimal::TWO),
        None => out.push(Decimal::ONE),
    }
    for (i, edge) in e.iter().enumerate() {
        out.push(*edge);
        if let Some(next) = e.get(i + 1) {
            out.push((*edge + *next) / Decimal::TWO);
        }
    }
    if let Some(last) = e.last() {
        out.push(*last + Decimal::ONE);
    }
    out
}

/// An exact input, if this representative value is one (extreme edges can
/// put it out of range; such a cell is then represented by its neighbours).
fn amount(d: Decimal) -> Option<Amount> {
    d.round_dp(crate::exact::INPUT_SCALE).to_string().parse().ok()
}

impl Scorecard {
    pub fn lint(&self) -> Lint {
        let d = self.definition();
        let loan = Decimal::from(1_000_000_000);
        // DSR cells: no income, or income giving each representative ratio
        // (income = installment / ratio, installment from a fixed loan).
        let mut dsr_edges: Vec<Decimal> = d.dsr.bands.iter().map(|b| b.max_ratio).collect();
        dsr_edges.push(d.decision.decline_dsr_above);
        dsr_edges.push(d.decision.approve_dsr_at_most);
        let acr_edges: Vec<Decimal> = d.acr.bands.iter().map(|b| b.min_ratio).collect();
        let mut tenors: BTreeSet<i32> = [1].into();
        for b in &d.tenor.bands {
            for t in [b.max_months, b.max_months.saturating_add(1)] {
                if t >= 1 {
                    tenors.insert(t);
                }
            }
        }

        let mut apps = Vec::new();
        for &tenor in &tenors {
            let repayable = loan * (Decimal::ONE + d.margin_rate);
            let installment = repayable / Decimal::from(tenor);
            let mut incomes: Vec<Decimal> = vec![Decimal::ZERO];
            incomes.extend(representatives(&dsr_edges).into_iter().map(|r| installment / r));
            let mut assets: Vec<Decimal> = vec![Decimal::ZERO];
            assets.extend(representatives(&acr_edges).into_iter().map(|r| loan * r));
            for &income in &incomes {
                // Incomes carry 28 significant digits, rounded to the 20
                // places the engine accepts: far finer than any interval
                // between two edges of 6 decimal places.
                for &a in &assets {
                    apps.push((income, a, loan, tenor));
                }
                // No loan amount: installment 0, DSR 0.
                apps.push((income, Decimal::ZERO, Decimal::ZERO, tenor));
            }
        }

        let mut scores = BTreeSet::new();
        let mut segments = BTreeSet::new();
        let mut probabilities = BTreeSet::new();
        let mut personas = BTreeSet::new();
        let mut decisions: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
        let mut steps = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (income, assets, loan, tenor) in apps {
            let (Some(income), Some(assets), Some(loan)) = (amount(income), amount(assets), amount(loan))
            else {
                continue;
            };
            let Ok(app) = Application::new(income, assets, loan, tenor) else { continue };
            let a = self.evaluate(&app);
            scores.insert(a.credit_score);
            segments.insert(a.segment);
            probabilities.insert(a.default_probability);
            personas.insert(a.persona);
            steps.0.insert(a.bands.dsr);
            steps.1.insert(a.bands.acr);
            steps.2.insert(a.bands.tenor);
            let codes = self.decision_reasons(a.decision_reasons).into_iter().map(String::from).collect();
            decisions.entry(a.decision.name().to_string()).or_default().insert(codes);
        }

        let unreachable = |names: &[String], reached: &BTreeSet<u8>| -> Vec<String> {
            names
                .iter()
                .enumerate()
                .filter(|(i, _)| !reached.contains(&(*i as u8)))
                .map(|(_, n)| n.clone())
                .collect()
        };
        let probability_names: Vec<String> = self.probabilities.iter().map(|p| p.to_string()).collect();
        let reachable_codes: BTreeSet<&String> = decisions.values().flatten().flatten().collect();

        let mut unreachable_bands = Vec::new();
        let label = |factor: &str, i: usize, n: usize| match (factor, i) {
            ("dsr", 0) => "$.dsr.no_income_points".to_string(),
            ("acr", 0) => "$.acr.no_amount_points".to_string(),
            ("dsr", i) if i == n - 1 => "$.dsr.above_points".to_string(),
            ("acr", i) if i == n - 1 => "$.acr.below_points".to_string(),
            ("tenor", i) if i == n - 1 => "$.tenor.above_points".to_string(),
            ("tenor", i) => format!("$.tenor.bands[{i}]"),
            (f, i) => format!("$.{f}.bands[{}]", i - 1),
        };
        for (factor, n, reached) in [
            ("dsr", self.dsr_steps.len(), &steps.0),
            ("acr", self.acr_steps.len(), &steps.1),
            ("tenor", self.tenor_steps.len(), &steps.2),
        ] {
            for i in 0..n {
                if !reached.contains(&(i as u8)) {
                    unreachable_bands.push(label(factor, i, n));
                }
            }
        }

        let mut non_monotonic = Vec::new();
        let mut check = |path: &str, points: Vec<i32>, what: &str| {
            for pair in points.windows(2) {
                if pair[1] > pair[0] {
                    non_monotonic.push(format!("{path}: {} points after {} ({what})", pair[1], pair[0]));
                }
            }
        };
        check(
            "$.dsr",
            d.dsr.bands.iter().map(|b| b.points).chain([d.dsr.above_points]).collect(),
            "a higher DSR should not earn more",
        );
        check(
            "$.acr",
            d.acr.bands.iter().map(|b| b.points).chain([d.acr.below_points]).collect(),
            "lower asset coverage should not earn more",
        );
        check(
            "$.tenor",
            d.tenor.bands.iter().map(|b| b.points).chain([d.tenor.above_points]).collect(),
            "a longer tenor should not earn more",
        );

        let mut warnings = Vec::new();
        let range = ScoreRange {
            min: *scores.first().expect("at least one cell"),
            max: *scores.last().expect("at least one cell"),
        };
        if range.max < d.score_bounds.max {
            warnings.push(format!(
                "the highest reachable score is {}, below score_bounds.max {}",
                range.max, d.score_bounds.max
            ));
        }

        Lint {
            score_range: range,
            reachable_scores: scores.into_iter().collect(),
            unreachable_segments: unreachable(&self.segment_names, &segments),
            unreachable_default_probabilities: unreachable(&probability_names, &probabilities),
            unreachable_personas: unreachable(&self.persona_names, &personas),
            unreachable_decisions: crate::scorecard::Decision::ALL
                .iter()
                .map(|d| d.name().to_string())
                .filter(|d| !decisions.contains_key(d))
                .collect(),
            unreachable_decision_codes: self
                .decision_codes
                .iter()
                .filter(|c| !reachable_codes.contains(c))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            decisions_always_with: decisions
                .iter()
                .map(|(k, lists)| {
                    let mut lists = lists.iter();
                    let first: BTreeSet<&String> =
                        lists.next().map(|l| l.iter().collect()).unwrap_or_default();
                    let always =
                        lists.fold(first, |acc, l| acc.intersection(&l.iter().collect()).copied().collect());
                    (k.clone(), always.into_iter().cloned().collect())
                })
                .collect(),
            decisions: decisions.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect(),
            unreachable_bands,
            non_monotonic,
            warnings,
        }
    }
}
