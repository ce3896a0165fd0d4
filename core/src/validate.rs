//! Checks a scorecard definition before it may score anything. Every error
//! names the JSON path of the offending value.

use rust_decimal::Decimal;

use crate::exact::PARAM_SCALE;
use crate::scorecard::{Definition, DefinitionError};

/// Bands per factor: indices are kept in a `u8`.
const MAX_BANDS: usize = 64;

fn err(path: impl Into<String>, message: impl Into<String>) -> DefinitionError {
    DefinitionError { path: path.into(), message: message.into() }
}

/// A rate or ratio edge: 0 ≤ x ≤ 10^6 with at most 6 decimal places, so the
/// cross-multiplied comparisons stay within 256 bits.
fn ratio(path: &str, d: Decimal) -> Result<(), DefinitionError> {
    if d.is_sign_negative() && !d.is_zero() {
        return Err(err(path, format!("must not be negative, got {d}")));
    }
    if d > Decimal::from(1_000_000) {
        return Err(err(path, format!("must be at most 1000000, got {d}")));
    }
    if d.normalize().scale() > PARAM_SCALE {
        return Err(err(path, format!("must have at most {PARAM_SCALE} decimal places, got {d}")));
    }
    Ok(())
}

fn band_count(path: &str, n: usize) -> Result<(), DefinitionError> {
    if n > MAX_BANDS {
        return Err(err(path, format!("at most {MAX_BANDS} bands, got {n}")));
    }
    Ok(())
}

/// Each consecutive pair must satisfy `ordered`, else `what` is reported.
fn ordered<T: Copy + std::fmt::Display>(
    path: &str,
    field: &str,
    values: impl Iterator<Item = T>,
    ordered: impl Fn(T, T) -> bool,
    what: &str,
) -> Result<(), DefinitionError> {
    let mut previous: Option<T> = None;
    for (i, v) in values.enumerate() {
        if let Some(p) = previous {
            if !ordered(p, v) {
                return Err(err(
                    format!("{path}[{i}].{field}"),
                    format!("bands must be {what}: {v} follows {p}"),
                ));
            }
        }
        previous = Some(v);
    }
    Ok(())
}

pub(crate) fn check(d: &Definition) -> Result<(), DefinitionError> {
    ratio("$.margin_rate", d.margin_rate)?;
    if d.score_bounds.min > d.score_bounds.max {
        return Err(err(
            "$.score_bounds",
            format!("min ({}) must not exceed max ({})", d.score_bounds.min, d.score_bounds.max),
        ));
    }

    band_count("$.dsr.bands", d.dsr.bands.len())?;
    for (i, b) in d.dsr.bands.iter().enumerate() {
        ratio(&format!("$.dsr.bands[{i}].max_ratio"), b.max_ratio)?;
    }
    ordered(
        "$.dsr.bands",
        "max_ratio",
        d.dsr.bands.iter().map(|b| b.max_ratio),
        |a, b| a < b,
        "in ascending max_ratio order without overlaps",
    )?;

    band_count("$.acr.bands", d.acr.bands.len())?;
    for (i, b) in d.acr.bands.iter().enumerate() {
        ratio(&format!("$.acr.bands[{i}].min_ratio"), b.min_ratio)?;
    }
    ordered(
        "$.acr.bands",
        "min_ratio",
        d.acr.bands.iter().map(|b| b.min_ratio),
        |a, b| a > b,
        "in descending min_ratio order without overlaps",
    )?;

    band_count("$.tenor.bands", d.tenor.bands.len())?;
    ordered(
        "$.tenor.bands",
        "max_months",
        d.tenor.bands.iter().map(|b| b.max_months),
        |a, b| a < b,
        "in ascending max_months order without overlaps",
    )?;

    band_count("$.default_probability.bands", d.default_probability.bands.len())?;
    let probabilities =
        d.default_probability.bands.iter().map(|b| b.probability).chain([d.default_probability.otherwise]);
    for (i, p) in probabilities.enumerate() {
        let path = if i < d.default_probability.bands.len() {
            format!("$.default_probability.bands[{i}].probability")
        } else {
            "$.default_probability.otherwise".to_string()
        };
        if p < Decimal::ZERO || p > Decimal::ONE {
            return Err(err(path, format!("must lie between 0 and 1, got {p}")));
        }
    }
    ordered(
        "$.default_probability.bands",
        "min_score",
        d.default_probability.bands.iter().map(|b| b.min_score),
        |a, b| a > b,
        "in descending min_score order without overlaps",
    )?;

    band_count("$.segments.bands", d.segments.bands.len())?;
    ordered(
        "$.segments.bands",
        "min_score",
        d.segments.bands.iter().map(|b| b.min_score),
        |a, b| a > b,
        "in descending min_score order without overlaps",
    )?;
    let names: Vec<&str> =
        d.segments.bands.iter().map(|b| b.name.as_str()).chain([d.segments.otherwise.as_str()]).collect();
    for (i, name) in names.iter().enumerate() {
        let path = if i < d.segments.bands.len() {
            format!("$.segments.bands[{i}].name")
        } else {
            "$.segments.otherwise".to_string()
        };
        if name.trim().is_empty() {
            return Err(err(path, "a segment needs a name"));
        }
        if names[..i].contains(name) {
            return Err(err(path, format!("segment \"{name}\" is named twice")));
        }
    }

    ratio("$.decision.decline_dsr_above", d.decision.decline_dsr_above)?;
    ratio("$.decision.approve_dsr_at_most", d.decision.approve_dsr_at_most)?;

    band_count("$.personas", d.personas.len())?;
    for (i, p) in d.personas.iter().enumerate() {
        if !names.contains(&p.segment.as_str()) {
            return Err(err(
                format!("$.personas[{i}].segment"),
                format!("no segment is named \"{}\"", p.segment),
            ));
        }
        if p.name.trim().is_empty() {
            return Err(err(format!("$.personas[{i}].name"), "a persona needs a name"));
        }
    }
    for segment in &names {
        if !d.personas.iter().any(|p| p.segment == *segment && p.min_score.is_none()) {
            return Err(err(
                "$.personas",
                format!("segment \"{segment}\" needs a persona without min_score"),
            ));
        }
    }
    Ok(())
}
