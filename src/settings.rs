//! The GUCs of SPEC §5. Settable per database, role or session; the
//! per-table overrides live in `credit.scored_tables` (data travels with
//! the trigger, which session settings do not on Citus workers).

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;

/// What the scoring trigger does with input it cannot score.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PostgresGucEnum)]
pub enum OnInvalid {
    /// The write succeeds, score columns are NULL, an `invalid_input` alert says why.
    Flag,
    /// The write fails with the error.
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
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"credit_scoring.alert_window",
        c"How far back score_drop alerts look for the highest score (an interval; 0: the previous score only).",
        c"",
        &ALERT_WINDOW,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"credit_scoring.dsr_alert_ratio",
        c"DSR above which a dsr_critical alert is raised (a number, e.g. 0.60).",
        c"",
        &DSR_ALERT_RATIO,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"credit_scoring.on_invalid",
        c"What scoring triggers do with input they cannot score: flag or reject.",
        c"flag: the write succeeds, score columns are NULL and an invalid_input alert says why; reject: the write fails.",
        &ON_INVALID,
        GucContext::Userset,
        GucFlags::default(),
    );
}
