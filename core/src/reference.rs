//! The reference scorecard: the weights of the old Python service, which
//! `credit.score_credit(income, assets, amount, tenor)` computes.

use std::sync::OnceLock;

use rust_decimal::Decimal;

use crate::scorecard::*;

/// The reference definition, as the old service's code had it.
pub fn definition() -> Definition {
    let d = |units: i64, scale: u32| Decimal::new(units, scale);
    let persona = |segment: &str, min_score: Option<i32>, name: &str| PersonaRule {
        segment: segment.into(),
        min_score,
        name: name.into(),
    };
    Definition {
        margin_rate: d(15, 2),
        base_points: 300,
        score_bounds: ScoreBounds { min: 300, max: 850 },
        dsr: DsrRule {
            no_income_points: -200,
            bands: vec![
                MaxRatioBand { max_ratio: d(30, 2), points: 150 },
                MaxRatioBand { max_ratio: d(40, 2), points: 100 },
                MaxRatioBand { max_ratio: d(50, 2), points: 0 },
            ],
            above_points: -150,
        },
        acr: AcrRule {
            no_amount_points: 0,
            bands: vec![
                MinRatioBand { min_ratio: d(12, 1), points: 100 },
                MinRatioBand { min_ratio: d(8, 1), points: 50 },
            ],
            below_points: -50,
        },
        tenor: TenorRule {
            bands: vec![
                TenorBand { max_months: 12, points: 50 },
                TenorBand { max_months: 24, points: 20 },
                TenorBand { max_months: 36, points: -20 },
            ],
            above_points: -50,
        },
        default_probability: ProbabilityRule {
            bands: vec![
                ProbabilityBand { min_score: 750, probability: d(1, 2) },
                ProbabilityBand { min_score: 650, probability: d(5, 2) },
                ProbabilityBand { min_score: 550, probability: d(15, 2) },
            ],
            otherwise: d(40, 2),
        },
        segments: SegmentRule {
            bands: vec![
                SegmentBand { min_score: 700, name: "low".into() },
                SegmentBand { min_score: 550, name: "medium".into() },
            ],
            otherwise: "high".into(),
        },
        personas: vec![
            persona("low", Some(750), "golden_anchor"),
            persona("low", None, "rising_star"),
            persona("medium", None, "cautious_newcomer"),
            persona("high", None, "struggling_borrower"),
        ],
        decision: policy(),
    }
}

/// The reference decision policy of SPEC §9.
pub fn policy() -> DecisionPolicy {
    DecisionPolicy {
        decline_without_income: true,
        decline_dsr_above: Decimal::new(60, 2),
        decline_score_below: 450,
        approve_score_at_least: 550,
        approve_dsr_at_most: Decimal::new(40, 2),
    }
}

/// The compiled reference scorecard, built once per process.
pub fn scorecard() -> &'static Scorecard {
    static CARD: OnceLock<Scorecard> = OnceLock::new();
    CARD.get_or_init(|| Scorecard::new(definition()).expect("the reference scorecard is valid"))
}
