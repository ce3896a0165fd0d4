//! Property tests: random and hostile inputs against the scorecard's
//! invariants. Exactness itself is pinned by the golden vectors; these
//! check that nothing panics or overflows anywhere in the input domain and
//! that band edges are decided exactly.

use credit_core::exact::{INPUT_SCALE, MAX_INPUT_UNITS};
use credit_core::{reference, Amount, AmountProblem, Application};
use proptest::prelude::*;

/// Any valid amount: 0 ..= 10^15 with up to 20 decimals, biased to the
/// extremes where overflow would show.
fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        (0..=MAX_INPUT_UNITS).prop_map(|u| Amount::from_units(u).unwrap()),
        (0u64..=1_000_000_000_000_000)
            .prop_map(|whole| Amount::from_units(i128::from(whole) * 10i128.pow(INPUT_SCALE)).unwrap()),
        (0u64..1_000_000)
            .prop_map(|micro| Amount::from_units(i128::from(micro) * 10i128.pow(INPUT_SCALE - 6)).unwrap()),
        Just(Amount::ZERO),
        Just(Amount::from_units(1).unwrap()),
        Just(Amount::from_units(MAX_INPUT_UNITS).unwrap()),
    ]
}

fn tenor() -> impl Strategy<Value = i32> {
    prop_oneof![1..=120i32, 1..=i32::MAX, Just(i32::MAX), Just(1)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn every_valid_input_scores_within_bounds(income in amount(), assets in amount(), loan in amount(), tenor in tenor()) {
        let card = reference::scorecard();
        let app = Application::new(income, assets, loan, tenor).unwrap();
        let a = card.evaluate(&app);
        prop_assert!((300..=600).contains(&a.credit_score), "reference scores lie in 300..=600");
        prop_assert_eq!(a.credit_score, (300 + a.dsr_points + a.acr_points + a.tenor_points).clamp(300, 850));
        prop_assert!(a.dsr.units >= 0 && a.monthly_installment.units >= 0);
        // The rounded DSR agrees with the band wherever rounding cannot blur it.
        if !income.is_zero() {
            if a.dsr.units < 30 { prop_assert_eq!(a.dsr_points, 150); }
            if a.dsr.units > 30 { prop_assert!(a.dsr_points < 150); }
        } else {
            prop_assert_eq!(a.dsr_points, -200);
        }
        let reasons = card.reasons(a.bands);
        prop_assert!(reasons.len() <= 3);
        prop_assert_eq!(reasons.is_empty(), a.dsr_points == 150 && (a.acr_points == 100 || loan.is_zero()) && a.tenor_points == 50);
    }

    #[test]
    fn dsr_above_agrees_with_the_decline_rule(income in amount(), loan in amount(), tenor in tenor()) {
        // The reference policy declines above 0.60 (dsr_over_60), decided by
        // the same cross-multiplication: the alert rule at 0.60 must agree.
        let card = reference::scorecard();
        let app = Application::new(income, Amount::ZERO, loan, tenor).unwrap();
        let declined_for_dsr = card.evaluate(&app).decision_reasons & credit_core::scorecard::DSR_OVER_DECLINE != 0;
        prop_assert_eq!(card.dsr_above(&app, 600_000), declined_for_dsr);
    }

    #[test]
    fn more_income_or_assets_never_lowers_the_score(income in amount(), extra in amount(), assets in amount(), loan in amount(), tenor in tenor()) {
        let card = reference::scorecard();
        let base = card.evaluate(&Application::new(income, assets, loan, tenor).unwrap()).credit_score;
        let richer = Amount::from_units((income.units() + extra.units()).min(MAX_INPUT_UNITS)).unwrap();
        let wealthier = Amount::from_units((assets.units() + extra.units()).min(MAX_INPUT_UNITS)).unwrap();
        prop_assert!(card.evaluate(&Application::new(richer, assets, loan, tenor).unwrap()).credit_score >= base);
        prop_assert!(card.evaluate(&Application::new(income, wealthier, loan, tenor).unwrap()).credit_score >= base);
    }

    /// On a DSR edge exactly the band is kept; a millionth of income less
    /// falls to the next band (30 % edge: income = amount × 1.15 / (0.30 × tenor)).
    #[test]
    fn dsr_edges_are_exact(n in 1u64..1_000_000_000, tenor in 1i32..=360) {
        let card = reference::scorecard();
        // amount = 6 × tenor × n, so income = amount × 1.15 / (0.30 × tenor) = 23 × n exactly.
        let loan = Amount::from_units(i128::from(n) * 6 * i128::from(tenor) * 10i128.pow(INPUT_SCALE)).unwrap();
        let income = Amount::from_units(i128::from(n) * 23 * 10i128.pow(INPUT_SCALE)).unwrap();
        let below = Amount::from_units(income.units() - 10i128.pow(INPUT_SCALE - 6)).unwrap();
        prop_assume!(loan.units() <= MAX_INPUT_UNITS);
        let at = card.evaluate(&Application::new(income, Amount::ZERO, loan, tenor).unwrap());
        let under = card.evaluate(&Application::new(below, Amount::ZERO, loan, tenor).unwrap());
        prop_assert_eq!(at.dsr_points, 150);
        prop_assert_eq!(under.dsr_points, 100);
    }

    /// Hostile text never panics; what parses is in range.
    #[test]
    fn parsing_never_panics(s in "\\PC{0,60}") {
        if let Ok(a) = s.parse::<Amount>() {
            prop_assert!(a.units() >= 0 && a.units() <= MAX_INPUT_UNITS);
        }
    }

    #[test]
    fn numeric_like_text_parses_or_says_why(neg in any::<bool>(), int in "[0-9]{0,40}", frac in "[0-9]{0,40}") {
        let s = format!("{}{}.{}", if neg { "-" } else { "" }, int, frac);
        match s.parse::<Amount>() {
            Ok(a) => prop_assert!(a.units() <= MAX_INPUT_UNITS),
            Err(p) => prop_assert!(matches!(p, AmountProblem::Negative | AmountProblem::OutOfRange | AmountProblem::TooManyDecimals | AmountProblem::NotANumber)),
        }
    }

    /// Any base-10000 digit sequence PostgreSQL could hand over.
    #[test]
    fn base10000_never_panics(neg in any::<bool>(), weight in -20_000i32..20_000, digits in prop::collection::vec(0u16..=9999, 0..80)) {
        let _ = Amount::from_base10000(neg, weight, &digits);
    }
}

#[test]
fn extremes_do_not_overflow() {
    let card = reference::scorecard();
    let tiny = Amount::from_units(1).unwrap();
    let max = Amount::from_units(MAX_INPUT_UNITS).unwrap();
    let a = card.evaluate(&Application::new(tiny, max, max, 1).unwrap());
    assert_eq!(a.dsr.to_string(), "115000000000000000000000000000000000.00");
    assert_eq!(a.monthly_installment.to_string(), "1150000000000000.00");
    let a = card.evaluate(&Application::new(max, Amount::ZERO, tiny, i32::MAX).unwrap());
    assert_eq!((a.dsr.to_string().as_str(), a.credit_score), ("0.00", 350));
}

#[test]
fn tenor_below_one_is_rejected() {
    let e = Application::parse("1", "1", "1", 0).unwrap_err();
    assert_eq!(e.to_string(), "tenor_months must be at least 1, got 0");
    let e = Application::parse("-5", "1", "1", 12).unwrap_err();
    assert_eq!(e.to_string(), "monthly_income must not be negative, got -5");
}

#[test]
fn lint_on_reference_reports_what_the_spec_says() {
    let lint = reference::scorecard().lint();
    assert_eq!((lint.score_range.min, lint.score_range.max), (300, 600));
    assert_eq!(lint.unreachable_segments, vec!["low"]);
    assert_eq!(lint.unreachable_default_probabilities, vec!["0.01", "0.05"]);
    assert_eq!(lint.unreachable_personas, vec!["golden_anchor", "rising_star"]);
    // Review only ever with score_under_550 (SPEC §9); dsr_over_40 only beside it.
    assert_eq!(lint.decisions_always_with["review"], vec!["score_under_550"]);
    assert_eq!(
        lint.decisions["review"],
        vec![
            vec!["score_under_550".to_string()],
            vec!["score_under_550".to_string(), "dsr_over_40".to_string()]
        ]
    );
    assert!(lint.unreachable_decisions.is_empty());
    assert!(lint.non_monotonic.is_empty());
}

/// Random valid scorecards: whatever the engine scores lies in the lint's
/// reachable set, so the lint never claims something unreachable that is.
mod random_scorecards {
    use super::*;
    use credit_core::scorecard::*;
    use rust_decimal::Decimal;

    fn ratios(n: usize) -> impl Strategy<Value = Vec<Decimal>> {
        prop::collection::btree_set(1u32..3_000_000, n)
            .prop_map(|s| s.into_iter().map(|m| Decimal::new(m.into(), 6)).collect())
    }

    fn definition() -> impl Strategy<Value = Definition> {
        (
            (0u32..500_000, 0i32..400, prop::collection::vec(-300i32..300, 9)),
            (ratios(3), ratios(2), prop::collection::btree_set(1i32..120, 3)),
            (prop::collection::btree_set(0i32..900, 3), prop::collection::btree_set(0i32..900, 2)),
            (ratios(2), 0i32..900, 0i32..900, any::<bool>()),
        )
            .prop_map(
                |(
                    (margin, base, pts),
                    (dsr, acr, tenor),
                    (pd, seg),
                    (limits, decline, approve, no_income),
                )| {
                    let mut d = reference::definition();
                    d.margin_rate = Decimal::new(margin.into(), 6);
                    d.base_points = base;
                    d.dsr.no_income_points = pts[0];
                    d.dsr.bands = dsr
                        .iter()
                        .enumerate()
                        .map(|(i, r)| MaxRatioBand { max_ratio: *r, points: pts[1 + i] })
                        .collect();
                    d.dsr.above_points = pts[4];
                    let mut acr = acr;
                    acr.reverse();
                    d.acr.bands = acr
                        .iter()
                        .enumerate()
                        .map(|(i, r)| MinRatioBand { min_ratio: *r, points: pts[5 + i] })
                        .collect();
                    d.acr.below_points = pts[7];
                    d.tenor.bands = tenor
                        .iter()
                        .enumerate()
                        .map(|(i, m)| TenorBand { max_months: *m, points: pts[i] })
                        .collect();
                    d.tenor.above_points = pts[8];
                    let pd: Vec<i32> = pd.into_iter().rev().collect();
                    d.default_probability.bands = pd
                        .iter()
                        .map(|m| ProbabilityBand { min_score: *m, probability: Decimal::new(5, 2) })
                        .collect();
                    let seg: Vec<i32> = seg.into_iter().rev().collect();
                    d.segments.bands[0].min_score = seg[0];
                    d.segments.bands[1].min_score = seg[1];
                    d.decision = DecisionPolicy {
                        decline_without_income: no_income,
                        decline_dsr_above: limits[1],
                        decline_score_below: decline,
                        approve_score_at_least: approve,
                        approve_dsr_at_most: limits[0],
                    };
                    d
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn engine_stays_within_the_lint(d in definition(), income in amount(), assets in amount(), loan in amount(), tenor in tenor()) {
            let card = Scorecard::new(d).unwrap();
            let lint = card.lint();
            let a = card.evaluate(&Application::new(income, assets, loan, tenor).unwrap());
            prop_assert!(lint.reachable_scores.contains(&a.credit_score), "{} not in {:?}", a.credit_score, lint.reachable_scores);
            prop_assert!(!lint.unreachable_segments.contains(&card.segment_name(&a).to_string()));
            let codes: Vec<String> = card.decision_reasons(a.decision_reasons).into_iter().map(String::from).collect();
            prop_assert!(lint.decisions[a.decision.name()].contains(&codes), "{:?} {:?} not in {:?}", a.decision, codes, lint.decisions);
        }
    }
}
