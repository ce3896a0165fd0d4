//! The scorecard: its definition (data a risk team edits as JSON) and
//! [`Scorecard::evaluate`], which turns an application into an assessment.
//!
//! Read top to bottom, this file is the whole rule book of SPEC §1.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::exact::{
    div_round_half_up, div_round_half_up_u128, quotient_at_most, Amount, Fixed, INPUT_SCALE, PARAM_SCALE,
};
use ethnum::I256;

/// What a risk team writes: every weight, band and threshold of a scorecard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Flat margin over the whole tenor: installment = amount × (1 + rate) / tenor.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub margin_rate: Decimal,
    /// Points every application starts with.
    pub base_points: i32,
    /// The score is clamped into `[min, max]`.
    pub score_bounds: ScoreBounds,
    /// Debt service ratio: installment / monthly income.
    pub dsr: DsrRule,
    /// Asset coverage ratio: assets / loan amount.
    pub acr: AcrRule,
    pub tenor: TenorRule,
    pub default_probability: ProbabilityRule,
    pub segments: SegmentRule,
    /// First matching persona wins.
    pub personas: Vec<PersonaRule>,
    /// The instant decision policy (SPEC §9); the reference policy when absent.
    #[serde(default = "crate::reference::policy")]
    pub decision: DecisionPolicy,
}

/// Approve, review or decline (SPEC §9). Ratios are installment / income,
/// compared exactly like the DSR bands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionPolicy {
    /// Decline when the applicant has no income (`no_income`).
    pub decline_without_income: bool,
    /// Decline when installment / income exceeds this (`dsr_over_60`).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub decline_dsr_above: Decimal,
    /// Decline below this score (`score_under_450`).
    pub decline_score_below: i32,
    /// Approve from this score (else review: `score_under_550`) ...
    pub approve_score_at_least: i32,
    /// ... and up to this installment / income (else review: `dsr_over_40`).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub approve_dsr_at_most: Decimal,
}

/// The instant decision on an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Approve,
    Review,
    Decline,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Approve, Decision::Review, Decision::Decline];

    pub fn name(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Review => "review",
            Decision::Decline => "decline",
        }
    }
}

/// Decision reason codes, as bits in this order (which is also the order
/// they are named in): no_income, dsr over the decline limit, score under
/// the decline limit, score under the approval limit, dsr over the approval
/// limit. Texts in [`Scorecard::decision_codes`].
pub const NO_INCOME: u8 = 1;
pub const DSR_OVER_DECLINE: u8 = 2;
pub const SCORE_UNDER_DECLINE: u8 = 4;
pub const SCORE_UNDER_APPROVE: u8 = 8;
pub const DSR_OVER_APPROVE: u8 = 16;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreBounds {
    pub min: i32,
    pub max: i32,
}

/// DSR bands: the first band whose `max_ratio` the DSR does not exceed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsrRule {
    pub no_income_points: i32,
    pub bands: Vec<MaxRatioBand>,
    pub above_points: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxRatioBand {
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub max_ratio: Decimal,
    pub points: i32,
}

/// ACR bands: the first band whose `min_ratio` the ACR reaches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcrRule {
    pub no_amount_points: i32,
    pub bands: Vec<MinRatioBand>,
    pub below_points: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinRatioBand {
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub min_ratio: Decimal,
    pub points: i32,
}

/// Tenor bands: the first band whose `max_months` the tenor does not exceed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenorRule {
    pub bands: Vec<TenorBand>,
    pub above_points: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenorBand {
    pub max_months: i32,
    pub points: i32,
}

/// Default probability: the first band whose `min_score` the score reaches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbabilityRule {
    pub bands: Vec<ProbabilityBand>,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub otherwise: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbabilityBand {
    pub min_score: i32,
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub probability: Decimal,
}

/// Segment: the first band whose `min_score` the score reaches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    pub bands: Vec<SegmentBand>,
    pub otherwise: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentBand {
    pub min_score: i32,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaRule {
    pub segment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<i32>,
    pub name: String,
}

/// One loan application, exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Application {
    pub monthly_income: Amount,
    pub assets: Amount,
    pub loan_amount: Amount,
    pub tenor_months: i32,
}

/// Which band of a factor an application fell into. Bands are numbered as
/// in [`Scorecard::dsr_steps`] and friends; the numbers key per-backend caches
/// of values that depend on bands only (the reason codes array).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bands {
    pub dsr: u8,
    pub acr: u8,
    pub tenor: u8,
}

/// The scorecard's verdict on one application. Text fields are indices into
/// the scorecard's lists so a caller can reuse prebuilt values per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub credit_score: i32,
    /// Index into [`Scorecard::probabilities`].
    pub default_probability: u8,
    /// Index into [`Scorecard::segment_names`].
    pub segment: u8,
    /// installment / income rounded to 2 places; 0 without income.
    pub dsr: Fixed,
    /// installment rounded to 2 places.
    pub monthly_installment: Fixed,
    pub dsr_points: i32,
    pub acr_points: i32,
    pub tenor_points: i32,
    /// Index into [`Scorecard::persona_names`].
    pub persona: u8,
    pub bands: Bands,
    pub decision: Decision,
    /// Bits of the decision reasons (see [`NO_INCOME`] and friends).
    pub decision_reasons: u8,
}

/// A step of a factor: its points, and the reason code naming it when it is
/// below the factor's best points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub points: i32,
    pub reason: Option<String>,
    pub lost: i32,
}

/// Why a definition cannot be a scorecard; `path` is a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A validated definition, with every parameter turned into the exact
/// integers [`Scorecard::evaluate`] compares with.
#[derive(Clone, Debug)]
pub struct Scorecard {
    definition: Definition,
    /// (1 + margin_rate) in units of 10^-6.
    one_plus_margin: I256,
    /// DSR band edges in units of 10^-6, ascending.
    dsr_edges: Vec<I256>,
    /// ACR band edges in units of 10^-6, descending.
    acr_edges: Vec<I256>,
    /// Decision limits (decline above, approve at most) in units of 10^-6.
    decision_limits: [I256; 2],
    decision_limits_micros: [u128; 2],
    /// Texts of the decision reason bits, in bit order.
    pub decision_codes: [String; 5],
    /// The same three in 128 bits, for the fast path.
    one_plus_margin_micros: u128,
    dsr_edges_micros: Vec<u128>,
    acr_edges_micros: Vec<u128>,
    /// Steps of each factor. DSR: no income, bands…, above.
    /// ACR: no amount, bands…, below. Tenor: bands…, above.
    pub dsr_steps: Vec<Step>,
    pub acr_steps: Vec<Step>,
    pub tenor_steps: Vec<Step>,
    pub probabilities: Vec<Decimal>,
    pub segment_names: Vec<String>,
    pub persona_names: Vec<String>,
    /// persona index per (segment, score ≥ min_score?) resolved at compile
    /// time would need the score; kept as rules.
    persona_rules: Vec<(u8, Option<i32>, u8)>,
}

impl Scorecard {
    /// Validates a definition and prepares it for scoring.
    pub fn new(definition: Definition) -> Result<Scorecard, DefinitionError> {
        crate::validate::check(&definition)?;
        let param = |d: Decimal| I256::from(to_param_units(d));
        let d = &definition;

        let one_plus_margin = I256::from(10i128.pow(PARAM_SCALE)) + param(d.margin_rate);
        let dsr_edges = d.dsr.bands.iter().map(|b| param(b.max_ratio)).collect();
        let acr_edges = d.acr.bands.iter().map(|b| param(b.min_ratio)).collect();

        let best_dsr = d.dsr.bands.iter().map(|b| b.points).chain([d.dsr.above_points]).max().unwrap_or(0);
        let mut dsr_steps = vec![step(d.dsr.no_income_points, best_dsr, || "no_income".to_string(), true)];
        let mut previous: Option<Decimal> = None;
        for b in &d.dsr.bands {
            dsr_steps.push(step(b.points, best_dsr, || format!("dsr_over_{}", percent(previous)), false));
            previous = Some(b.max_ratio);
        }
        dsr_steps.push(step(
            d.dsr.above_points,
            best_dsr,
            || format!("dsr_over_{}", percent(previous)),
            false,
        ));

        let best_acr = d.acr.bands.iter().map(|b| b.points).chain([d.acr.below_points]).max().unwrap_or(0);
        let mut acr_steps = vec![Step { points: d.acr.no_amount_points, reason: None, lost: 0 }];
        let mut previous: Option<Decimal> = None;
        for b in &d.acr.bands {
            acr_steps.push(step(b.points, best_acr, || format!("assets_under_{}", percent(previous)), false));
            previous = Some(b.min_ratio);
        }
        acr_steps.push(step(
            d.acr.below_points,
            best_acr,
            || format!("assets_under_{}", percent(previous)),
            false,
        ));

        let best_tenor =
            d.tenor.bands.iter().map(|b| b.points).chain([d.tenor.above_points]).max().unwrap_or(0);
        let mut tenor_steps = Vec::new();
        let mut previous: Option<i32> = None;
        for b in &d.tenor.bands {
            tenor_steps.push(step(
                b.points,
                best_tenor,
                || format!("tenor_over_{}", previous.unwrap_or(0)),
                false,
            ));
            previous = Some(b.max_months);
        }
        tenor_steps.push(step(
            d.tenor.above_points,
            best_tenor,
            || format!("tenor_over_{}", previous.unwrap_or(0)),
            false,
        ));

        // At least 2 places, as the old API printed them (0.40, not 0.4).
        let two_places = |p: Decimal| {
            let mut p = p.normalize();
            if p.scale() < 2 {
                p.rescale(2);
            }
            p
        };
        let probabilities = d
            .default_probability
            .bands
            .iter()
            .map(|b| b.probability)
            .chain([d.default_probability.otherwise])
            .map(two_places)
            .collect();
        let segment_names: Vec<String> =
            d.segments.bands.iter().map(|b| b.name.clone()).chain([d.segments.otherwise.clone()]).collect();
        let mut persona_names: Vec<String> = Vec::new();
        let mut persona_rules = Vec::new();
        for p in &d.personas {
            let segment = segment_names.iter().position(|s| *s == p.segment).unwrap_or(0) as u8;
            let name = match persona_names.iter().position(|n| *n == p.name) {
                Some(i) => i,
                None => {
                    persona_names.push(p.name.clone());
                    persona_names.len() - 1
                }
            } as u8;
            persona_rules.push((segment, p.min_score, name));
        }

        let micros = |d: Decimal| to_param_units(d) as u128;
        let policy = &d.decision;
        let limits = [policy.decline_dsr_above, policy.approve_dsr_at_most];
        Ok(Scorecard {
            decision_limits: limits.map(param),
            decision_limits_micros: limits.map(micros),
            decision_codes: [
                "no_income".to_string(),
                format!("dsr_over_{}", percent(Some(policy.decline_dsr_above))),
                format!("score_under_{}", policy.decline_score_below),
                format!("score_under_{}", policy.approve_score_at_least),
                format!("dsr_over_{}", percent(Some(policy.approve_dsr_at_most))),
            ],
            one_plus_margin_micros: 1_000_000 + micros(d.margin_rate),
            dsr_edges_micros: d.dsr.bands.iter().map(|b| micros(b.max_ratio)).collect(),
            acr_edges_micros: d.acr.bands.iter().map(|b| micros(b.min_ratio)).collect(),
            one_plus_margin,
            dsr_edges,
            acr_edges,
            dsr_steps,
            acr_steps,
            tenor_steps,
            probabilities,
            segment_names,
            persona_names,
            persona_rules,
            definition,
        })
    }

    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// Scores one application. Never fails: inputs were validated when the
    /// [`Application`] was built, and the scorecard when it was compiled.
    pub fn evaluate(&self, app: &Application) -> Assessment {
        let ratios = self.ratios_in_micros(app).unwrap_or_else(|| self.ratios_wide(app));
        self.assess(app, ratios)
    }

    /// Points, score and labels from the ratios' bands.
    fn assess(&self, app: &Application, ratios: Ratios) -> Assessment {
        let Ratios { monthly_installment, dsr, dsr_band, acr_band, above_decline_limit, above_approve_limit } =
            ratios;

        let tenor_band = self.definition.tenor.bands.iter().position(|b| app.tenor_months <= b.max_months);
        let tenor_band = tenor_band.unwrap_or(self.definition.tenor.bands.len());

        let dsr_points = self.dsr_steps[dsr_band].points;
        let acr_points = self.acr_steps[acr_band].points;
        let tenor_points = self.tenor_steps[tenor_band].points;

        let bounds = &self.definition.score_bounds;
        let raw = i64::from(self.definition.base_points)
            + i64::from(dsr_points)
            + i64::from(acr_points)
            + i64::from(tenor_points);
        let credit_score = raw.clamp(i64::from(bounds.min), i64::from(bounds.max)) as i32;

        let default_probability = first_reached(
            self.definition.default_probability.bands.iter().map(|b| b.min_score),
            credit_score,
        );
        let segment = first_reached(self.definition.segments.bands.iter().map(|b| b.min_score), credit_score);
        let persona = self.persona_for(segment, credit_score);

        // The instant decision (SPEC §9): every declining rule that applies
        // is named; otherwise approve, or review naming what stood in the way.
        let policy = &self.definition.decision;
        let no_income = app.monthly_income.is_zero();
        let mut decline = 0;
        if no_income && policy.decline_without_income {
            decline |= NO_INCOME;
        } else if above_decline_limit {
            decline |= DSR_OVER_DECLINE;
        }
        if credit_score < policy.decline_score_below {
            decline |= SCORE_UNDER_DECLINE;
        }
        let (decision, decision_reasons) = if decline != 0 {
            (Decision::Decline, decline)
        } else {
            let mut review = 0;
            if credit_score < policy.approve_score_at_least {
                review |= SCORE_UNDER_APPROVE;
            }
            if no_income || above_approve_limit {
                review |= DSR_OVER_APPROVE;
            }
            (if review == 0 { Decision::Approve } else { Decision::Review }, review)
        };

        Assessment {
            credit_score,
            default_probability,
            segment,
            dsr,
            monthly_installment,
            dsr_points,
            acr_points,
            tenor_points,
            persona,
            bands: Bands { dsr: dsr_band as u8, acr: acr_band as u8, tenor: tenor_band as u8 },
            decision,
            decision_reasons,
        }
    }

    /// installment / income above `ratio_micros` / 10^6, decided exactly as
    /// the DSR bands are (cross-multiplied: amount × (1 + margin) >
    /// ratio × income × tenor); false without income. The `dsr_critical`
    /// alert's rule (SPEC §3).
    pub fn dsr_above(&self, app: &Application, ratio_micros: u128) -> bool {
        let income = app.monthly_income.wide();
        if income <= 0 {
            return false;
        }
        let tenor = I256::from(app.tenor_months.max(1));
        let repayable = app.loan_amount.wide() * self.one_plus_margin;
        let (q, r) = (repayable / tenor, repayable % tenor);
        !quotient_at_most(q, r, I256::from(ratio_micros) * income)
    }

    /// The decision reason codes of these bits, in order.
    pub fn decision_reasons(&self, bits: u8) -> Vec<&str> {
        (0..5).filter(|i| bits & (1 << i) != 0).map(|i| self.decision_codes[i].as_str()).collect()
    }

    fn persona_for(&self, segment: u8, score: i32) -> u8 {
        self.persona_rules
            .iter()
            .find(|(s, min, _)| *s == segment && min.is_none_or(|m| score >= m))
            .map_or(0, |&(_, _, name)| name)
    }

    /// Reason codes of an assessment's bands: one per factor below its best
    /// band, most points lost first; ties keep the order dsr, acr, tenor.
    pub fn reasons(&self, bands: Bands) -> Vec<&str> {
        let mut lost: Vec<&Step> = [
            &self.dsr_steps[bands.dsr as usize],
            &self.acr_steps[bands.acr as usize],
            &self.tenor_steps[bands.tenor as usize],
        ]
        .into_iter()
        .filter(|s| s.reason.is_some())
        .collect();
        lost.sort_by_key(|s| -s.lost); // stable
        lost.into_iter().filter_map(|s| s.reason.as_deref()).collect()
    }

    /// Every distinct [`Bands`] value is `index() < band_combinations()`.
    pub fn band_combinations(&self) -> usize {
        self.dsr_steps.len() * self.acr_steps.len() * self.tenor_steps.len()
    }

    pub fn bands_index(&self, bands: Bands) -> usize {
        (bands.dsr as usize * self.acr_steps.len() + bands.acr as usize) * self.tenor_steps.len()
            + bands.tenor as usize
    }

    pub fn segment_name(&self, a: &Assessment) -> &str {
        &self.segment_names[a.segment as usize]
    }

    pub fn persona_name(&self, a: &Assessment) -> &str {
        &self.persona_names[a.persona as usize]
    }

    pub fn probability(&self, a: &Assessment) -> Decimal {
        self.probabilities[a.default_probability as usize]
    }

    /// The old API's recommendation line: `Segment MEDIUM - DSR: 0.19`.
    pub fn recommendation(&self, a: &Assessment) -> String {
        format!("Segment {} - DSR: {}", self.segment_name(a).to_uppercase(), a.dsr)
    }
}

/// The ratio side of an assessment: installment and DSR (rounded for
/// output) and the DSR and ACR bands (decided exactly).
struct Ratios {
    monthly_installment: Fixed,
    dsr: Fixed,
    dsr_band: usize,
    acr_band: usize,
    /// installment / income above the decision policy's limits (false
    /// without income).
    above_decline_limit: bool,
    above_approve_limit: bool,
}

impl Scorecard {
    /// The usual case: every amount has at most 6 decimal places, so all of
    /// it fits 128-bit integers of millionths. `None` when a product would
    /// not fit (or an amount is finer): then [`Self::ratios_wide`] decides.
    fn ratios_in_micros(&self, app: &Application) -> Option<Ratios> {
        let income = app.monthly_income.micros()?;
        let assets = app.assets.micros()?;
        let amount = app.loan_amount.micros()?;
        let tenor = app.tenor_months.max(1) as u128;

        // installment = amount × (1 + margin) / tenor, kept as the exact
        // quotient `repayable / tenor` (repayable in units of 10^-12).
        let repayable = amount.checked_mul(self.one_plus_margin_micros)?;
        let monthly_installment = div_round_half_up_u128(repayable, tenor * 10u128.pow(10));

        // DSR: installment / income ≤ edge  ⇔  repayable ≤ edge × income × tenor.
        let (dsr_band, dsr) = if income == 0 {
            (0, 0)
        } else {
            let limit = income.checked_mul(tenor)?;
            let mut band = self.dsr_edges_micros.len() + 1;
            for (i, edge) in self.dsr_edges_micros.iter().enumerate() {
                if repayable <= edge.checked_mul(limit)? {
                    band = i + 1;
                    break;
                }
            }
            // dsr in hundredths = repayable / (tenor × income × 10^4)
            (band, div_round_half_up_u128(repayable, limit.checked_mul(10_000)?))
        };
        let above = |edge: u128| -> Option<bool> {
            Some(income != 0 && repayable > edge.checked_mul(income.checked_mul(tenor)?)?)
        };
        let above_decline_limit = above(self.decision_limits_micros[0])?;
        let above_approve_limit = above(self.decision_limits_micros[1])?;

        // ACR: assets / amount ≥ edge  ⇔  assets ≥ edge × amount.
        let acr_band = if amount == 0 {
            0
        } else {
            let assets = assets * 1_000_000;
            let mut band = self.acr_edges_micros.len() + 1;
            for (i, edge) in self.acr_edges_micros.iter().enumerate() {
                if assets >= edge.checked_mul(amount)? {
                    band = i + 1;
                    break;
                }
            }
            band
        };

        Some(Ratios {
            monthly_installment: Fixed::cents(monthly_installment as i128),
            dsr: Fixed::cents(i128::try_from(dsr).ok()?),
            dsr_band,
            acr_band,
            above_decline_limit,
            above_approve_limit,
        })
    }

    /// Any valid input: amounts in units of 10^-20 and products in 256 bits,
    /// which hold every product of in-range inputs and parameters.
    fn ratios_wide(&self, app: &Application) -> Ratios {
        let income = app.monthly_income.wide();
        let tenor = I256::from(app.tenor_months.max(1));

        // repayable in units of 10^-26.
        let repayable = app.loan_amount.wide() * self.one_plus_margin;
        let monthly_installment = Fixed::cents(div_round_half_up(
            repayable,
            tenor * I256::from(10i128.pow(INPUT_SCALE + PARAM_SCALE - 2)),
        ));

        // Here edge × income × tenor could exceed 256 bits, so the quotient
        // `repayable / tenor` is compared through its quotient and remainder.
        let (q, r) = (repayable / tenor, repayable % tenor);
        let above = |edge: I256| income > 0 && !quotient_at_most(q, r, edge * income);
        let above_decline_limit = above(self.decision_limits[0]);
        let above_approve_limit = above(self.decision_limits[1]);
        let (dsr_band, dsr) = if income <= 0 {
            (0, Fixed::cents(0))
        } else {
            let band = self.dsr_edges.iter().position(|&edge| quotient_at_most(q, r, edge * income));
            let band = band.map_or(self.dsr_edges.len() + 1, |i| i + 1);
            let dsr = Fixed::cents(div_round_half_up(
                repayable,
                tenor * income * I256::from(10i128.pow(PARAM_SCALE - 2)),
            ));
            (band, dsr)
        };

        let acr_band = if app.loan_amount.is_zero() {
            0
        } else {
            let assets = app.assets.wide() * I256::from(10i128.pow(PARAM_SCALE));
            let amount = app.loan_amount.wide();
            let band = self.acr_edges.iter().position(|&edge| assets >= edge * amount);
            band.map_or(self.acr_edges.len() + 1, |i| i + 1)
        };

        Ratios { monthly_installment, dsr, dsr_band, acr_band, above_decline_limit, above_approve_limit }
    }
}

/// Index of the first band whose minimum score is reached, else the
/// "otherwise" entry after the bands.
fn first_reached(mins: impl ExactSizeIterator<Item = i32>, score: i32) -> u8 {
    let n = mins.len();
    let mut mins = mins;
    mins.position(|m| score >= m).unwrap_or(n) as u8
}

fn step(points: i32, best: i32, reason: impl FnOnce() -> String, always: bool) -> Step {
    let below_best = always || points < best;
    Step { points, reason: below_best.then(reason), lost: best - points }
}

/// An edge as a percentage for reason codes: 0.30 → "30", 1.2 → "120",
/// 0.325 → "32_5" (codes are identifiers, so no dot).
pub(crate) fn percent(edge: Option<Decimal>) -> String {
    let p = (edge.unwrap_or_default() * Decimal::ONE_HUNDRED).normalize();
    p.to_string().replace('.', "_")
}

/// A validated parameter (≤ 6 decimal places, |x| ≤ 10^6) in units of 10^-6.
pub(crate) fn to_param_units(d: Decimal) -> i128 {
    let mut d = d;
    d.rescale(PARAM_SCALE);
    d.mantissa()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::{Amount, INPUT_SCALE, MAX_INPUT_UNITS};
    use proptest::prelude::*;

    #[test]
    fn dsr_above_is_exact_at_the_edge() {
        let card = crate::reference::scorecard();
        let app = |income: &str, amount: &str, tenor: i32| Application {
            monthly_income: income.parse().unwrap(),
            assets: Amount::ZERO,
            loan_amount: amount.parse().unwrap(),
            tenor_months: tenor,
        };
        // 1150 / 12 / 159.722222... : the installment is 95.8333..., 0.60 of
        // an income of 159.7222... exactly.
        assert!(!card.dsr_above(&app("1000", "600", 1), 690_000));
        assert!(card.dsr_above(&app("1000", "600.000001", 1), 690_000));
        assert!(!card.dsr_above(&app("0", "600", 1), 1));
        // 1000 x 1.15 / 12 = 95.8333...; > 0.60 x 159.72 = 95.832, not > 0.60 x 159.73
        assert!(card.dsr_above(&app("159.72", "1000", 12), 600_000));
        assert!(!card.dsr_above(&app("159.73", "1000", 12), 600_000));
    }

    fn micro_amount() -> impl Strategy<Value = Amount> {
        let max_micros = MAX_INPUT_UNITS / 10i128.pow(INPUT_SCALE - 6);
        prop_oneof![(0..=max_micros), (0..=1_000_000_000_000i128), Just(0), Just(1), Just(max_micros)]
            .prop_map(|m| Amount::from_units(m * 10i128.pow(INPUT_SCALE - 6)).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(50_000))]

        /// The 128-bit fast path and the 256-bit path agree wherever the
        /// fast path answers; and it answers for the everyday range.
        #[test]
        fn fast_path_agrees_with_wide_path(
            income in micro_amount(), assets in micro_amount(), amount in micro_amount(),
            tenor in prop_oneof![1..=600i32, 1..=i32::MAX],
        ) {
            let card = crate::reference::scorecard();
            let app = Application::new(income, assets, amount, tenor).unwrap();
            let wide = card.assess(&app, card.ratios_wide(&app));
            match card.ratios_in_micros(&app) {
                Some(fast) => prop_assert_eq!(card.assess(&app, fast), wide),
                None => prop_assert!(income.units() > 10i128.pow(INPUT_SCALE + 9) || tenor > 600),
            }
        }
    }
}
