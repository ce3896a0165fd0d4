//! Every golden vector of the exact engine, every field, in pure Rust.

use credit_core::{reference, Application};

#[test]
fn golden_vectors_match_the_exact_engine() {
    let card = reference::scorecard();
    let csv =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden_vectors.csv")).unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let f = split_csv(line);
        let app = Application::parse(&f[0], &f[1], &f[2], f[3].parse().unwrap()).unwrap();
        let a = card.evaluate(&app);
        let reasons = format!("{{{}}}", card.reasons(a.bands).join(","));
        let got = [
            a.credit_score.to_string(),
            card.probability(&a).to_string(),
            card.segment_name(&a).to_string(),
            a.dsr.to_string(),
            a.monthly_installment.to_string(),
            a.dsr_points.to_string(),
            a.acr_points.to_string(),
            a.tenor_points.to_string(),
            card.persona_name(&a).to_string(),
            reasons,
            card.recommendation(&a),
        ];
        assert_eq!(got.as_slice(), &f[4..], "inputs {:?}", &f[..4]);
        rows += 1;
    }
    assert_eq!(rows, 3000);
}

/// Enough CSV for the vectors: fields may be double-quoted, no escapes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn decision_vectors_match_the_exact_engine() {
    let card = reference::scorecard();
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/decision_vectors.csv"))
        .unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let f = split_csv(line);
        let app = Application::parse(&f[0], &f[1], &f[2], f[3].parse().unwrap()).unwrap();
        let a = card.evaluate(&app);
        let got = [
            a.decision.name().to_string(),
            format!("{{{}}}", card.decision_reasons(a.decision_reasons).join(",")),
            a.credit_score.to_string(),
        ];
        assert_eq!(got.as_slice(), &f[4..], "inputs {:?}", &f[..4]);
        rows += 1;
    }
    assert_eq!(rows, 2000);
}

/// The reference scorecard as JSON (what credit.scorecards holds) is the
/// same scorecard: it round-trips and scores every golden vector alike.
#[test]
fn reference_json_round_trips() {
    let json = serde_json::to_string_pretty(&reference::definition()).unwrap();
    let parsed: credit_core::Definition = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, reference::definition());
    let from_json = credit_core::Scorecard::new(parsed).unwrap();
    let csv =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden_vectors.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let f = split_csv(line);
        let app = Application::parse(&f[0], &f[1], &f[2], f[3].parse().unwrap()).unwrap();
        let (a, b) = (reference::scorecard().evaluate(&app), from_json.evaluate(&app));
        assert_eq!(a, b);
        assert_eq!(reference::scorecard().probability(&a).to_string(), from_json.probability(&b).to_string());
    }
}
