//! The GUCs of SPEC §5. Settable per database, role or session, by a
//! superuser only (PGC_SUSET): the recorder reads them from the writing
//! session, and an application role must not be able to silence its own
//! alerts or turn `reject` into `flag`. The per-table overrides live in
//! `credit.scored_tables` (data travels with the trigger, which session
//! settings do not on Citus workers).

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;

/// What the scoring trigger does with input it cannot score.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PostgresGucEnum)]
pub enum OnInvalid {
    /// The write succeeds, score columns are NULL, an `invalid_input` alert says why.
    #[name = c"flag"]
    Flag,
    /// The write fails with the error.
    #[name = c"reject"]
    Reject,
}

pub static ALERT_DROP_POINTS: GucSetting<i32> = GucSetting::<i32>::new(15);
pub static ALERT_WINDOW: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(Some(c"30 days"));
pub static DSR_ALERT_RATIO: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(Some(c"0.60"));
pub static ON_INVALID: GucSetting<OnInvalid> = GucSetting::<OnInvalid>::new(OnInvalid::Flag);

pub fn register() {
    GucRegistry::define_int_guc(
        c"credit_scoring.alert_drop_points",
        c"Points a score must fall for a score_drop alert.",
        c"Measured from the highest score the row had within credit_scoring.alert_window.",
        &ALERT_DROP_POINTS,
        1,
        10_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    // String settings get check hooks: a bad value is refused at SET
    // (22023), instead of failing every later write to a scored table.
    unsafe {
        pgrx::pg_sys::DefineCustomStringVariable(
            c"credit_scoring.alert_window".as_ptr(),
            c"How far back score_drop alerts look for the highest score (an interval; 0: the previous score only).".as_ptr(),
            std::ptr::null(),
            ALERT_WINDOW.as_ptr(),
            c"30 days".as_ptr(),
            pgrx::pg_sys::GucContext::PGC_SUSET,
            0,
            Some(check_alert_window),
            None,
            None,
        );
        pgrx::pg_sys::DefineCustomStringVariable(
            c"credit_scoring.dsr_alert_ratio".as_ptr(),
            c"DSR above which a dsr_critical alert is raised (a positive number, e.g. 0.60).".as_ptr(),
            std::ptr::null(),
            DSR_ALERT_RATIO.as_ptr(),
            c"0.60".as_ptr(),
            pgrx::pg_sys::GucContext::PGC_SUSET,
            0,
            Some(check_dsr_alert_ratio),
            None,
            None,
        );
    }
    GucRegistry::define_enum_guc(
        c"credit_scoring.on_invalid",
        c"What scoring triggers do with input they cannot score: flag or reject.",
        c"flag: the write succeeds, score columns are NULL and an invalid_input alert says why; reject: the write fails.",
        &ON_INVALID,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// The text of a string setting's new value, if any.
unsafe fn new_value<'a>(value: *mut *mut std::ffi::c_char) -> Option<&'a str> {
    unsafe {
        if value.is_null() || (*value).is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(*value).to_str().ok()
    }
}

unsafe fn refuse(detail: &str) -> bool {
    unsafe {
        let detail = std::ffi::CString::new(detail).unwrap_or_default();
        pgrx::pg_sys::GUC_check_errdetail_string = pgrx::pg_sys::pstrdup(detail.as_ptr());
    }
    false
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn check_dsr_alert_ratio(
    value: *mut *mut std::ffi::c_char,
    _extra: *mut *mut std::ffi::c_void,
    _source: pgrx::pg_sys::GucSource::Type,
) -> bool {
    unsafe {
        match new_value(value).map(|v| v.trim().parse::<PositiveDecimal>()) {
            None => true,
            Some(Ok(_)) => true,
            Some(Err(_)) => refuse("credit_scoring.dsr_alert_ratio must be a positive number such as 0.60."),
        }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn check_alert_window(
    value: *mut *mut std::ffi::c_char,
    _extra: *mut *mut std::ffi::c_void,
    _source: pgrx::pg_sys::GucSource::Type,
) -> bool {
    unsafe {
        match new_value(value) {
            None => true,
            Some(v) if is_interval(v) => true,
            Some(_) => refuse("credit_scoring.alert_window must be an interval such as '30 days', '2 weeks 3 days', '12 hours' or 0."),
        }
    }
}

/// Accepts the interval spellings a DBA writes: `0`, and one or more
/// `<number> <unit>` pairs (optionally `@`-prefixed, units singular, plural
/// or abbreviated as PostgreSQL accepts them), or `HH:MM[:SS]`.
fn is_interval(text: &str) -> bool {
    const UNITS: &[&str] = &[
        "microsecond",
        "microseconds",
        "us",
        "usec",
        "usecs",
        "millisecond",
        "milliseconds",
        "ms",
        "msec",
        "msecs",
        "second",
        "seconds",
        "s",
        "sec",
        "secs",
        "minute",
        "minutes",
        "m",
        "min",
        "mins",
        "hour",
        "hours",
        "h",
        "hr",
        "hrs",
        "day",
        "days",
        "d",
        "week",
        "weeks",
        "w",
        "month",
        "months",
        "mon",
        "mons",
        "year",
        "years",
        "y",
        "yr",
        "yrs",
    ];
    let t = text.trim().trim_start_matches('@').trim().to_ascii_lowercase();
    if t.is_empty() {
        return false;
    }
    if t.split(':').count() >= 2 {
        return t.split(':').all(|p| !p.is_empty() && p.parse::<f64>().is_ok_and(|x| x >= 0.0));
    }
    let mut words = Vec::new();
    for w in t.split_whitespace() {
        // "30days" as well as "30 days"
        let split = w.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(w.len());
        let (n, u) = w.split_at(split);
        if !n.is_empty() {
            words.push(n.to_string());
        }
        if !u.is_empty() {
            words.push(u.to_string());
        }
    }
    if words.len() == 1 {
        return words[0].parse::<f64>().is_ok_and(|x| x >= 0.0);
    }
    words.len() % 2 == 0
        && words
            .chunks(2)
            .all(|p| p[0].parse::<f64>().is_ok_and(|x| x >= 0.0) && UNITS.contains(&p[1].as_str()))
}

/// A positive decimal number (for dsr_alert_ratio).
struct PositiveDecimal;

impl std::str::FromStr for PositiveDecimal {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        let positive = int.bytes().chain(frac.bytes()).any(|b| (b'1'..=b'9').contains(&b));
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || !positive {
            return Err(());
        }
        Ok(PositiveDecimal)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals() {
        for ok in
            ["30 days", "0", "2 weeks 3 days", "12 hours", "@ 30 days", "1 day", "30d", "01:30:00", "90 min"]
        {
            assert!(super::is_interval(ok), "{ok}");
        }
        for bad in ["high", "", "30 dayz", "-1 day", "days", "1 2"] {
            assert!(!super::is_interval(bad), "{bad}");
        }
    }
}
