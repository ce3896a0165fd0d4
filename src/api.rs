//! The SQL functions of SPEC §2, as thin fmgr entry points over
//! `credit_core`.
//!
//! `score_credit` is the hot path (millions of rows per statement), so it
//! is written against the raw fmgr interface: pgrx's
//! `PgHeapTuple::new_composite_type` + `set_by_name` measured 2.3–8.1 µs per
//! row here, twenty times the call floor. Instead the result's tuple
//! descriptor and every value that depends on bands only (segment, persona,
//! default probability, the reasons array) are built once per call site and
//! kept in `fn_extra`; each row then forms its tuple directly.

use credit_core::{reference, Application, Field, InputError, Problem, Scorecard};

use pgrx::pg_sys::{self, Datum};
use pgrx::prelude::*;

use crate::numeric;
use crate::tuple::{self, Constants, Header, Template};

/// What a call site returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// `credit.score_result` (11 columns).
    ScoreResult,
    /// `credit.decision_result` (5 columns).
    DecisionResult,
}

/// Per call site state: the result descriptor and, per scorecard used, the
/// prebuilt datums; allocated in `fn_mcxt` so they live exactly as long as
/// the call site.
struct CallSite {
    tupdesc: pg_sys::TupleDesc,
    output: Output,
    /// The tuple header, taken from the first tuple heap_form_tuple forms.
    header: Option<Header>,
    /// Buffers for the per-row values.
    scratch: Scratch,
    /// The scorecards this call site has met (usually one).
    cards: Vec<CardState>,
    fn_mcxt: pg_sys::MemoryContext,
}

/// One scorecard's values that depend on bands only, built once.
struct CardState {
    name: String,
    card: &'static Scorecard,
    probabilities: Vec<Datum>,
    segments: Vec<Datum>,
    personas: Vec<Datum>,
    /// "Segment MEDIUM - DSR: " per segment.
    recommendation_prefixes: Vec<String>,
    /// score_result templates by `Scorecard::bands_index`, built on first use.
    templates: Vec<Option<Template>>,
    /// Whole decision_result tuples by bands and decision reasons.
    decisions: Vec<Option<Vec<u8>>>,
}

impl CallSite {
    /// The state kept in `flinfo->fn_extra`, made on the first call.
    unsafe fn get<'a>(fcinfo: pg_sys::FunctionCallInfo, output: Output) -> &'a mut CallSite {
        unsafe { crate::fn_extra::state(fcinfo, || CallSite::new(fcinfo, output)) }
    }

    unsafe fn new(fcinfo: pg_sys::FunctionCallInfo, output: Output) -> CallSite {
        unsafe {
            let fn_mcxt = (*(*fcinfo).flinfo).fn_mcxt;
            let old = pg_sys::MemoryContextSwitchTo(fn_mcxt);
            let mut tupdesc: pg_sys::TupleDesc = std::ptr::null_mut();
            let kind = pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut tupdesc);
            pg_sys::MemoryContextSwitchTo(old);
            if kind != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE || tupdesc.is_null() {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    "function returning a record called in a context that cannot accept it"
                );
            }
            let columns = match output {
                Output::ScoreResult => 11,
                Output::DecisionResult => 5,
            };
            if (*tupdesc).natts != columns {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                    format!("the result type must have {columns} columns")
                );
            }
            CallSite {
                tupdesc: pg_sys::BlessTupleDesc(tupdesc),
                output,
                header: None,
                scratch: Scratch::default(),
                cards: Vec::new(),
                fn_mcxt,
            }
        }
    }

    /// The index of the state of the scorecard of this name, made when new.
    fn card(&mut self, name: &[u8]) -> usize {
        if let Some(i) = self.cards.iter().position(|c| c.name.as_bytes() == name) {
            return i;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let name = name.as_str();
        let card = crate::scorecards::named(name);
        let state = unsafe {
            let old = pg_sys::MemoryContextSwitchTo(self.fn_mcxt);
            let state = CardState {
                name: name.to_string(),
                card,
                probabilities: card.probabilities.iter().map(|p| numeric::from_fixed((*p).into())).collect(),
                segments: card.segment_names.iter().map(|s| text_datum(s)).collect(),
                personas: card.persona_names.iter().map(|s| text_datum(s)).collect(),
                recommendation_prefixes: card
                    .segment_names
                    .iter()
                    .map(|s| format!("Segment {} - DSR: ", s.to_uppercase()))
                    .collect(),
                templates: (0..card.band_combinations()).map(|_| None).collect(),
                decisions: (0..card.band_combinations() * 32).map(|_| None).collect(),
            };
            pg_sys::MemoryContextSwitchTo(old);
            state
        };
        self.cards.push(state);
        self.cards.len() - 1
    }

    /// The result for one application, by the scorecard at `card`.
    fn result(&mut self, card: usize, app: &Application) -> Datum {
        match self.output {
            Output::ScoreResult => self.score_result(card, app),
            Output::DecisionResult => self.decision_result(card, app),
        }
    }

    /// The index of the tuple template of an assessment's bands, built once;
    /// its reasons array lives in `fn_mcxt` (the template copies its bytes).
    fn template(&mut self, card: usize, a: &credit_core::Assessment) -> usize {
        let c = &mut self.cards[card];
        let i = c.card.bands_index(a.bands);
        if c.templates[i].is_none() {
            let codes = c.card.reasons(a.bands);
            let template = unsafe {
                let old = pg_sys::MemoryContextSwitchTo(self.fn_mcxt);
                let reasons = text_array(&codes);
                pg_sys::MemoryContextSwitchTo(old);
                Template::new(&Constants {
                    credit_score: a.credit_score,
                    default_probability: c.probabilities[a.default_probability as usize],
                    segment: c.segments[a.segment as usize],
                    dsr_points: a.dsr_points,
                    acr_points: a.acr_points,
                    tenor_points: a.tenor_points,
                    persona: c.personas[a.persona as usize],
                    reasons,
                })
            };
            c.templates[i] = Some(template);
        }
        i
    }

    /// The composite `credit.score_result` of one assessment: the bands'
    /// template plus this row's DSR, installment and recommendation, written
    /// into scratch buffers reused from row to row (no palloc but the
    /// tuple's own).
    fn score_result(&mut self, card: usize, app: &Application) -> Datum {
        let a = self.cards[card].card.evaluate(app);
        self.scratch.fill(&a, &self.cards[card].recommendation_prefixes[a.segment as usize]);
        let header = match self.header {
            Some(h) => h,
            None => {
                let first = self.heap_form_tuple(card, &a);
                match unsafe { Header::from_tuple(first.cast_mut_ptr()) } {
                    Some(h) => *self.header.insert(h),
                    // Not the layout we expected: stay on heap_form_tuple.
                    None => return first,
                }
            }
        };
        let template = self.template(card, &a);
        let template = self.cards[card].templates[template].as_ref().expect("built by template()");
        let s = &self.scratch;
        let datum = template.form(&header, &s.dsr, &s.installment, &s.recommendation);
        #[cfg(debug_assertions)]
        unsafe {
            // Debug builds: the direct tuple must equal heap_form_tuple's, byte for byte.
            let expected = self.heap_form_tuple(card, &a).cast_mut_ptr::<u8>();
            let got = datum.cast_mut_ptr::<u8>();
            let len = |p: *mut u8| (*(p as *const u32) >> 2) as usize;
            assert_eq!(
                std::slice::from_raw_parts(got, len(got)),
                std::slice::from_raw_parts(expected, len(expected)),
                "direct score_result tuple differs from heap_form_tuple's"
            );
        }
        datum
    }

    /// The same result formed the general way, by heap_form_tuple.
    fn heap_form_tuple(&self, card: usize, a: &credit_core::Assessment) -> Datum {
        let c = &self.cards[card];
        let codes = c.card.reasons(a.bands);
        let s = &self.scratch;
        let row = [&s.dsr, &s.installment, &s.recommendation].map(|p| tuple::varlena_datum(p));
        unsafe {
            let values = [
                Datum::from(a.credit_score),
                c.probabilities[a.default_probability as usize],
                c.segments[a.segment as usize],
                row[0],
                row[1],
                Datum::from(a.dsr_points),
                Datum::from(a.acr_points),
                Datum::from(a.tenor_points),
                c.personas[a.persona as usize],
                text_array(&codes),
                row[2],
            ];
            form(self.tupdesc, &values)
        }
    }

    /// The composite `credit.decision_result`: every field depends on the
    /// bands and the decision reasons only, so whole tuples are built once
    /// and each row gets a copy.
    fn decision_result(&mut self, card: usize, app: &Application) -> Datum {
        let c = &mut self.cards[card];
        let a = c.card.evaluate(app);
        let i = c.card.bands_index(a.bands) * 32 + a.decision_reasons as usize;
        if c.decisions[i].is_none() {
            let codes = c.card.decision_reasons(a.decision_reasons);
            let image = unsafe {
                let values = [
                    text_datum(a.decision.name()),
                    text_array(&codes),
                    Datum::from(a.credit_score),
                    c.segments[a.segment as usize],
                    text_datum(&c.name),
                ];
                let t = form(self.tupdesc, &values).cast_mut_ptr::<u8>();
                let len = (*(t as *const u32) >> 2) as usize;
                std::slice::from_raw_parts(t, len).to_vec()
            };
            c.decisions[i] = Some(image);
        }
        let image = c.decisions[i].as_deref().expect("built above");
        tuple::copy_datum(image)
    }
}

/// heap_form_tuple of values without nulls, as a composite datum.
unsafe fn form(tupdesc: pg_sys::TupleDesc, values: &[Datum]) -> Datum {
    unsafe {
        let nulls = vec![false; values.len()];
        let t = pg_sys::heap_form_tuple(tupdesc, values.as_ptr() as *mut Datum, nulls.as_ptr() as *mut bool);
        Datum::from((*t).t_data)
    }
}

/// The per-row values' contents (varlena payloads), in buffers kept by the
/// call site so that a row allocates nothing.
#[derive(Default)]
struct Scratch {
    dsr: Vec<u8>,
    installment: Vec<u8>,
    recommendation: Vec<u8>,
}

impl Scratch {
    fn fill(&mut self, a: &credit_core::Assessment, recommendation_prefix: &str) {
        self.dsr.clear();
        numeric::encode(a.dsr, &mut self.dsr);
        self.installment.clear();
        numeric::encode(a.monthly_installment, &mut self.installment);
        self.recommendation.clear();
        self.recommendation.extend_from_slice(recommendation_prefix.as_bytes());
        push_fixed(&mut self.recommendation, a.dsr);
    }
}

/// Appends a fixed-point number, e.g. `0.19`, as `Fixed`'s Display would,
/// without the formatting machinery.
fn push_fixed(out: &mut Vec<u8>, f: credit_core::Fixed) {
    let abs = f.units.unsigned_abs();
    if f.units < 0 {
        out.push(b'-');
    }
    let one = 10u128.pow(f.scale);
    out.extend_from_slice(itoa::Buffer::new().format(abs / one).as_bytes());
    if f.scale > 0 {
        let mut frac = itoa::Buffer::new();
        let digits = frac.format(abs % one).as_bytes();
        out.push(b'.');
        out.resize(out.len() + f.scale as usize - digits.len(), b'0');
        out.extend_from_slice(digits);
    }
}

/// A text datum, palloc'd in the current memory context.
pub(crate) fn text_datum(s: &str) -> Datum {
    unsafe { Datum::from(pg_sys::cstring_to_text_with_len(s.as_ptr().cast(), s.len() as i32)) }
}

/// A `text[]` datum of these strings (empty array when none).
unsafe fn text_array(items: &[&str]) -> Datum {
    unsafe {
        if items.is_empty() {
            return Datum::from(pg_sys::construct_empty_array(pg_sys::TEXTOID));
        }
        let mut elems: Vec<Datum> = items.iter().map(|s| text_datum(s)).collect();
        Datum::from(pg_sys::construct_array(
            elems.as_mut_ptr(),
            elems.len() as i32,
            pg_sys::TEXTOID,
            -1,
            false,
            pg_sys::TYPALIGN_INT as std::ffi::c_char,
        ))
    }
}

/// The four arguments as an exact application, or why they are not one.
/// STRICT functions: PostgreSQL never passes NULLs here.
///
/// The valid case is kept free of error values (returning a `Result` of an
/// error with a message through memory stalled every call); finding out
/// what is wrong is left to [`application_error`], off the hot path.
#[inline(always)]
unsafe fn application(fcinfo: pg_sys::FunctionCallInfo) -> Result<Application, InputError> {
    unsafe {
        let args = (*fcinfo).args.as_slice(4);
        let tenor_months = args[3].value.value() as i32;
        if let (Ok(monthly_income), Ok(assets), Ok(loan_amount), true) = (
            numeric::to_amount(args[0].value),
            numeric::to_amount(args[1].value),
            numeric::to_amount(args[2].value),
            tenor_months >= 1,
        ) {
            return Ok(Application { monthly_income, assets, loan_amount, tenor_months });
        }
        Err(application_error(fcinfo))
    }
}

/// The first problem with the arguments, in argument order.
#[cold]
#[inline(never)]
unsafe fn application_error(fcinfo: pg_sys::FunctionCallInfo) -> InputError {
    unsafe {
        let args = (*fcinfo).args.as_slice(4);
        let amount = |i: usize, field: Field| {
            numeric::to_amount(args[i].value)
                .map_err(|p| InputError::new(field, Problem::Amount(p), &numeric::to_text(args[i].value)))
        };
        let checked = (|| {
            Application::new(
                amount(0, Field::MonthlyIncome)?,
                amount(1, Field::Assets)?,
                amount(2, Field::LoanAmount)?,
                args[3].value.value() as i32,
            )
        })();
        checked.expect_err("application() found a problem")
    }
}

/// Raises an input error as a PostgreSQL ERROR with its SQLSTATE.
pub(crate) fn report(e: &InputError) -> ! {
    let code = if e.is_out_of_range() {
        PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
    } else {
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
    };
    let mut r = pgrx::pg_sys::panic::ErrorReport::new(code, e.to_string(), "credit_scoring");
    if let Some(hint) = e.hint() {
        r = r.set_hint(hint);
    }
    r.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

unsafe fn return_null(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe { (*fcinfo).isnull = true };
    Datum::from(0)
}

/// The bytes of the scorecard name in argument 4 (a text datum), valid
/// for the call.
unsafe fn scorecard_arg<'a>(fcinfo: pg_sys::FunctionCallInfo) -> &'a [u8] {
    unsafe { tuple::payload(numeric::detoasted((*fcinfo).args.as_slice(5)[4].value)) }
}

/// One scoring entry point: the application, the scorecard, the result.
unsafe fn entry(fcinfo: pg_sys::FunctionCallInfo, output: Output, named: bool, lenient: bool) -> Datum {
    unsafe {
        let app = match application(fcinfo) {
            Ok(app) => app,
            Err(_) if lenient => return return_null(fcinfo),
            Err(e) => report(&e),
        };
        let site = CallSite::get(fcinfo, output);
        let card = if named { site.card(scorecard_arg(fcinfo)) } else { site.card(b"reference") };
        site.result(card, &app)
    }
}

macro_rules! scoring_function {
    ($finfo:ident, $name:ident, $output:expr, $named:expr, $lenient:expr) => {
        function_info_v1!($finfo);
        #[unsafe(no_mangle)]
        pub unsafe extern "C-unwind" fn $name(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
            unsafe {
                pg_sys::submodules::panic::pgrx_extern_c_guard(|| entry(fcinfo, $output, $named, $lenient))
            }
        }
    };
}

// credit.score_credit(numeric, numeric, numeric, integer [, scorecard text]) → credit.score_result
scoring_function!(pg_finfo_credit_score_credit, credit_score_credit, Output::ScoreResult, false, false);
scoring_function!(
    pg_finfo_credit_score_credit_named,
    credit_score_credit_named,
    Output::ScoreResult,
    true,
    false
);
// credit.try_score_credit(...): NULL where score_credit would raise.
scoring_function!(
    pg_finfo_credit_try_score_credit,
    credit_try_score_credit,
    Output::ScoreResult,
    false,
    true
);
// credit.decide(numeric, numeric, numeric, integer [, scorecard text]) → credit.decision_result
scoring_function!(pg_finfo_credit_decide, credit_decide, Output::DecisionResult, false, false);
scoring_function!(pg_finfo_credit_decide_named, credit_decide_named, Output::DecisionResult, true, false);

function_info_v1!(pg_finfo_credit_validate_application);
/// `credit.validate_application(...) → text`: NULL when valid, else why not.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn credit_validate_application(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe {
        pg_sys::submodules::panic::pgrx_extern_c_guard(|| {
            // Not STRICT: a NULL input gets a reason too, so a bulk load
            // that filters on this never drops a row silently.
            let args = (*fcinfo).args.as_slice(4);
            let fields = [Field::MonthlyIncome, Field::Assets, Field::LoanAmount, Field::TenorMonths];
            if let Some(i) = args.iter().position(|a| a.isnull) {
                return text_datum(&InputError::new(fields[i], Problem::Missing, "NULL").to_string());
            }
            match application(fcinfo) {
                Ok(_) => return_null(fcinfo),
                Err(e) => text_datum(&e.to_string()),
            }
        })
    }
}

function_info_v1!(pg_finfo_credit_explain_score);
/// `credit.explain_score(...) → jsonb`: the old API's response.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn credit_explain_score(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe {
        pg_sys::submodules::panic::pgrx_extern_c_guard(|| {
            let app = application(fcinfo).unwrap_or_else(|e| report(&e));
            let json = explain_json(reference::scorecard(), &app);
            let cstr = std::ffi::CString::new(json).expect("JSON has no NUL");
            pgrx::direct_function_call_as_datum(pg_sys::jsonb_in, &[Some(Datum::from(cstr.as_ptr()))])
                .expect("jsonb_in returns a value")
        })
    }
}

/// The old API's JSON shape plus persona, reasons and the decision. Numbers are written
/// as exact decimal text (`0.40` stays `0.40` in jsonb), strings escaped
/// by serde_json.
fn explain_json(card: &Scorecard, app: &Application) -> String {
    let a = card.evaluate(app);
    let s = |v: &str| serde_json::to_string(v).expect("a string serializes");
    let reasons: Vec<String> = card.reasons(a.bands).into_iter().map(s).collect();
    format!(
        concat!(
            r#"{{"credit_score": {}, "default_probability": {}, "segment": {}, "dsr": {}, "#,
            r#""monthly_installment": {}, "assessment": {{"dsr_score": {}, "acr_score": {}, "tenor_score": {}}}, "#,
            r#""persona": {}, "reasons": [{}], "recommendation": {}, "decision": {}, "decision_reasons": [{}]}}"#
        ),
        a.credit_score,
        card.probability(&a),
        s(card.segment_name(&a)),
        a.dsr,
        a.monthly_installment,
        a.dsr_points,
        a.acr_points,
        a.tenor_points,
        s(card.persona_name(&a)),
        reasons.join(", "),
        s(&card.recommendation(&a)),
        s(a.decision.name()),
        card.decision_reasons(a.decision_reasons).into_iter().map(s).collect::<Vec<_>>().join(", "),
    )
}
