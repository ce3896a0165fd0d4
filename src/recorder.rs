//! The statement trigger that records a statement's scorings (SPEC §3):
//! one `credit.score_history` row per scoring, the row's entry in
//! `credit.latest_scores`, and the `invalid_input`, `dsr_critical` and
//! `score_drop` alerts.
//!
//! `credit.enable_scoring` attaches it as `credit.record_scores()`,
//! `AFTER INSERT / UPDATE / DELETE FOR EACH STATEMENT` with transition
//! tables, on a plain or partitioned table (a Citus distributed table gets
//! `credit.record_scores_distributed()` instead, src/sql/triggers.sql).
//!
//! Why native: the same work as one set-based SQL statement (the 0.1.1
//! implementation) cost 13x the unscored INSERT, most of it in the
//! executor around the writes (speculative insertion for the latest
//! scores, CTE materialisation, per-row SubPlans; bench/RESULTS.md). Here
//! the transition tables are read in place, the inputs and outputs taken
//! from the tuples, history and alerts written with `heap_multi_insert`
//! in batches (as COPY does) and their indexes maintained with
//! `ExecInsertIndexTuples`, and every look-up is one index probe. What
//! each rule decides is exactly what the SQL decided (tests/pg_regress).
//!
//! Visibility: the look-ups into history and alerts use a snapshot taken
//! when the trigger fires (what an SQL statement run there would see:
//! what committed before, in READ COMMITTED), and none of the rows
//! written here (the SQL version's CTE semantics). The latest
//! scores are read with `SnapshotSelf`, so the version updated is the
//! newest one (concurrent writers of one row key are already serialised
//! by the scored row's lock).
//!
//! The extension's tables are written directly (no executor): their
//! CHECK and NOT NULL rules are met by construction, and a user trigger
//! on them would not fire. This function runs SECURITY DEFINER, so its
//! few SPI queries (configuration, customers in layout 2) see the
//! extension's tables whatever the writer's role.

use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString};

use credit_core::{Application, Scorecard};
use pgrx::pg_sys::{self, Datum, Oid};
use pgrx::prelude::*;

use crate::numeric;

/// Rows per `heap_multi_insert` (COPY uses 1000 too).
const BATCH: usize = 1000;

fn config_error(message: String) -> ! {
    ereport!(ERROR, PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message);
}

// ---------------------------------------------------------------------------
// Small fmgr helpers
// ---------------------------------------------------------------------------

/// The fmgr entry points called directly (pgrx wraps its bindings of them
/// in Rust functions; DirectFunctionCall needs the C symbols).
pub(crate) mod fmgr {
    use pgrx::pg_sys::{Datum, FunctionCallInfo};
    unsafe extern "C-unwind" {
        pub fn numeric_in(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_out(fcinfo: FunctionCallInfo) -> Datum;
        pub fn jsonb_in(fcinfo: FunctionCallInfo) -> Datum;
        pub fn int2_numeric(fcinfo: FunctionCallInfo) -> Datum;
        pub fn int4_numeric(fcinfo: FunctionCallInfo) -> Datum;
        pub fn int8_numeric(fcinfo: FunctionCallInfo) -> Datum;
        pub fn float4_numeric(fcinfo: FunctionCallInfo) -> Datum;
        pub fn float8_numeric(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_trunc(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_eq(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_ge(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_le(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_int4(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_mul(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_div(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_round(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_gt(fcinfo: FunctionCallInfo) -> Datum;
        pub fn nextval_oid(fcinfo: FunctionCallInfo) -> Datum;
    }
}

pub(crate) type PgFn = unsafe extern "C-unwind" fn(pg_sys::FunctionCallInfo) -> Datum;

pub(crate) unsafe fn call1(f: PgFn, a: Datum) -> Datum {
    unsafe { pg_sys::DirectFunctionCall1Coll(Some(f), pg_sys::InvalidOid, a) }
}

unsafe fn call2(f: PgFn, a: Datum, b: Datum) -> Datum {
    unsafe { pg_sys::DirectFunctionCall2Coll(Some(f), pg_sys::InvalidOid, a, b) }
}

unsafe fn numeric_in(text: &str) -> Datum {
    let c = CString::new(text).expect("no NUL in a number");
    unsafe {
        pg_sys::DirectFunctionCall3Coll(
            Some(fmgr::numeric_in),
            pg_sys::InvalidOid,
            Datum::from(c.as_ptr()),
            Datum::from(pg_sys::InvalidOid),
            Datum::from(-1i32),
        )
    }
}

unsafe fn numeric_text(d: Datum) -> String {
    unsafe {
        let c = call1(fmgr::numeric_out, d);
        CStr::from_ptr(c.cast_mut_ptr()).to_string_lossy().into_owned()
    }
}

/// A numeric as a JSON value, as `jsonb_build_object` writes one (NaN and
/// the infinities, which JSON has no number for, as strings).
unsafe fn json_number(d: Option<Datum>, out: &mut String) {
    match d {
        None => out.push_str("null"),
        Some(d) => {
            let t = unsafe { numeric_text(d) };
            if t.starts_with(|c: char| c.is_ascii_digit() || c == '-') && !t.ends_with("Infinity") {
                out.push_str(&t);
            } else {
                out.push_str(&serde_json::to_string(&t).expect("a string serializes"));
            }
        }
    }
}

unsafe fn jsonb(text: &str) -> Datum {
    let c = CString::new(text).expect("no NUL in JSON");
    unsafe { call1(fmgr::jsonb_in, Datum::from(c.as_ptr())) }
}

unsafe fn text_datum(s: &[u8]) -> Datum {
    unsafe { Datum::from(pg_sys::cstring_to_text_with_len(s.as_ptr().cast(), s.len() as i32)) }
}

/// A text[] of these strings, in the current memory context.
unsafe fn text_array<'a>(items: impl Iterator<Item = &'a [u8]>) -> Datum {
    unsafe {
        let mut elems: Vec<Datum> = items.map(|t| text_datum(t)).collect();
        Datum::from(pg_sys::construct_array(
            elems.as_mut_ptr(),
            elems.len() as i32,
            pg_sys::TEXTOID,
            -1,
            false,
            b'i' as std::ffi::c_char,
        ))
    }
}

unsafe fn text_bytes<'a>(d: Datum) -> &'a [u8] {
    unsafe { crate::tuple::payload(numeric::detoasted(d)) }
}

unsafe fn bool_of(d: Datum) -> bool {
    d.value() != 0
}

/// Attribute `attnum` (1-based) of a slot.
#[inline]
unsafe fn attr(slot: *mut pg_sys::TupleTableSlot, attnum: i32) -> Option<Datum> {
    unsafe {
        if i32::from((*slot).tts_nvalid) < attnum {
            pg_sys::slot_getsomeattrs_int(slot, attnum);
        }
        let i = attnum as usize - 1;
        (!*(*slot).tts_isnull.add(i)).then(|| *(*slot).tts_values.add(i))
    }
}

unsafe fn clear_slot(slot: *mut pg_sys::TupleTableSlot) {
    unsafe {
        if (*slot).tts_flags & pg_sys::TTS_FLAG_EMPTY as u16 == 0 {
            (*(*slot).tts_ops).clear.expect("slot ops")(slot);
        }
    }
}

/// A non-negative decimal with at most 6 decimals, in millionths.
fn micros(text: &str) -> Option<u128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() > 6 || !(fraction.is_empty() || digits(fraction)) {
        return None;
    }
    let whole: u128 = whole.parse().ok().filter(|w| *w <= 1_000_000)?;
    let fraction: u128 = format!("{fraction:0<6}").parse().ok()?;
    Some(whole * 1_000_000 + fraction)
}

/// Runs one query with one parameter through SPI; its return code.
unsafe fn spi_execute(query: &str, arg_type: Oid, arg: Datum, read_only: bool, count: i64) -> i32 {
    let query = CString::new(query).expect("no NUL in a query");
    let mut types = [arg_type];
    let mut values = [arg];
    unsafe {
        pg_sys::SPI_execute_with_args(
            query.as_ptr(),
            1,
            types.as_mut_ptr(),
            values.as_mut_ptr(),
            std::ptr::null(),
            read_only,
            count,
        )
    }
}

/// The attribute number of a column of a relation's descriptor.
unsafe fn attnum_of(desc: pg_sys::TupleDesc, name: &str, what: &str) -> i32 {
    unsafe { crate::triggers::column(desc, name, what).0 }
}

// ---------------------------------------------------------------------------
// Configuration, once per statement
// ---------------------------------------------------------------------------

/// What `credit.scored_tables` and the settings say for this statement
/// (the effective values: a table's overrides, else the session's).
struct Config {
    table_name: String,
    key_column: String,
    income_column: String,
    assets_column: String,
    amount_column: String,
    tenor_column: String,
    /// Layout 2: the customers table (qualified, quoted), its key, and
    /// the scored table's column referencing it.
    customers: Option<(String, String, String)>,
    scorecard: String,
    ratio: Datum,
    ratio_text: String,
    drop_points: i32,
    window_positive: bool,
    window_zero: bool,
    /// now() - alert_window.
    window_start: i64,
    window_text: String,
    one_plus_margin: Datum,
    /// A unique index on the key column alone: no key repeats within a
    /// statement.
    key_unique: bool,
    history_seq: Oid,
    alerts_seq: Oid,
    history_row_index: Oid,
    alerts_row_index: Oid,
    latest_index: Oid,
    history: Oid,
    alerts: Oid,
    latest: Oid,
}

const CONFIG_QUERY: &str = "
SELECT format('%s.%s', n.nspname, c.relname), t.key_column, t.income_column, t.assets_column,
       t.amount_column, t.tenor_column, t.customers::text, t.customers_key, t.scorecard,
       r.ratio, r.drop_points, r.win > interval '0', r.win = interval '0',
       ((extract(epoch FROM now() - r.win) - 946684800) * 1000000)::bigint,
       coalesce(t.alert_window::text, nullif(current_setting('credit_scoring.alert_window', true), ''), '30 days'),
       1 + (SELECT (sc.definition->>'margin_rate')::numeric FROM credit.scorecards sc WHERE sc.name = t.scorecard),
       EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
               WHERE i.indrelid = t.relid AND i.indisunique AND i.indnkeyatts = 1 AND a.attname = t.key_column),
       pg_get_serial_sequence('credit.score_history', 'id')::regclass::oid,
       pg_get_serial_sequence('credit.score_alerts', 'id')::regclass::oid,
       'credit.score_history_row'::regclass::oid, 'credit.score_alerts_row'::regclass::oid,
       'credit.latest_scores_pkey'::regclass::oid, 'credit.score_history'::regclass::oid,
       'credit.score_alerts'::regclass::oid, 'credit.latest_scores'::regclass::oid, t.customer_ref
FROM credit.scored_tables t
JOIN pg_class c ON c.oid = t.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    SELECT coalesce(t.dsr_alert_ratio,
                    nullif(current_setting('credit_scoring.dsr_alert_ratio', true), '')::numeric, 0.60) AS ratio,
           coalesce(t.alert_drop_points,
                    nullif(current_setting('credit_scoring.alert_drop_points', true), '')::integer, 15) AS drop_points,
           coalesce(t.alert_window,
                    nullif(current_setting('credit_scoring.alert_window', true), '')::interval,
                    interval '30 days') AS win) AS r
WHERE t.relid = coalesce(pg_partition_root($1), $1)";

impl Config {
    /// The configuration of the scored table `relid` answers to (a
    /// partition's root), or None when scoring is not enabled on it.
    /// Runs inside SPI; values needed later are made in `keep`.
    unsafe fn load(relid: Oid, keep: pg_sys::MemoryContext) -> Option<Config> {
        unsafe {
            let rc = spi_execute(CONFIG_QUERY, pg_sys::OIDOID, Datum::from(relid), true, 1);
            if rc != pg_sys::SPI_OK_SELECT as i32 {
                config_error(format!("credit_scoring: reading credit.scored_tables failed ({rc})"));
            }
            if pg_sys::SPI_processed == 0 {
                return None;
            }
            let table = pg_sys::SPI_tuptable;
            let (row, desc) = (*(*table).vals, (*table).tupdesc);
            let text = |i: i32| -> Option<String> {
                let c = pg_sys::SPI_getvalue(row, desc, i);
                (!c.is_null()).then(|| CStr::from_ptr(c).to_string_lossy().into_owned())
            };
            let need = |i: i32| {
                text(i).unwrap_or_else(|| {
                    config_error(format!("credit_scoring: configuration field {i} is NULL"))
                })
            };
            let oid = |i: i32| Oid::from(need(i).parse::<u32>().expect("an oid"));
            let flag = |i: i32| need(i) == "t";
            let old = pg_sys::MemoryContextSwitchTo(keep);
            let ratio_text = need(10);
            let ratio = numeric_in(&ratio_text);
            let margin_text = text(16).unwrap_or_else(|| "1.15".into());
            let one_plus_margin = numeric_in(&margin_text);
            pg_sys::MemoryContextSwitchTo(old);
            Some(Config {
                table_name: need(1),
                key_column: need(2),
                income_column: need(3),
                assets_column: need(4),
                amount_column: need(5),
                tenor_column: need(6),
                customers: text(7).map(|c| (c, text(8).unwrap_or_default(), text(26).unwrap_or_default())),
                scorecard: need(9),
                ratio,
                ratio_text,
                drop_points: need(11).parse().expect("an integer"),
                window_positive: flag(12),
                window_zero: flag(13),
                window_start: need(14).parse().expect("a timestamp"),
                window_text: need(15),
                one_plus_margin,
                key_unique: flag(17),
                history_seq: oid(18),
                alerts_seq: oid(19),
                history_row_index: oid(20),
                alerts_row_index: oid(21),
                latest_index: oid(22),
                history: oid(23),
                alerts: oid(24),
                latest: oid(25),
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Input columns
// ---------------------------------------------------------------------------

/// An input column of the scored table (or of customers) and its type;
/// `credit.enable_scoring` admits these number types only.
#[derive(Clone, Copy)]
enum NumberKind {
    Numeric,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
}

impl NumberKind {
    fn of(typoid: Oid, column: &str) -> NumberKind {
        match typoid {
            pg_sys::NUMERICOID => NumberKind::Numeric,
            pg_sys::INT2OID => NumberKind::Int2,
            pg_sys::INT4OID => NumberKind::Int4,
            pg_sys::INT8OID => NumberKind::Int8,
            pg_sys::FLOAT4OID => NumberKind::Float4,
            pg_sys::FLOAT8OID => NumberKind::Float8,
            _ => config_error(format!("credit_scoring: column {column} is not of a number type")),
        }
    }

    /// `value::numeric`.
    unsafe fn numeric(self, d: Datum) -> Datum {
        unsafe {
            match self {
                NumberKind::Numeric => d,
                NumberKind::Int2 => call1(fmgr::int2_numeric, d),
                NumberKind::Int4 => call1(fmgr::int4_numeric, d),
                NumberKind::Int8 => call1(fmgr::int8_numeric, d),
                NumberKind::Float4 => call1(fmgr::float4_numeric, d),
                NumberKind::Float8 => call1(fmgr::float8_numeric, d),
            }
        }
    }
}

#[derive(Clone, Copy)]
struct Input {
    attnum: i32,
    kind: NumberKind,
}

impl Input {
    unsafe fn resolve(desc: pg_sys::TupleDesc, name: &str, table: &str) -> Input {
        let (attnum, typoid) = unsafe { crate::triggers::column(desc, name, table) };
        Input { attnum, kind: NumberKind::of(typoid, name) }
    }
}

/// The tenor as the history stores it: `integer` when the value is a whole
/// number in range (else NULL, as the SQL `CASE` did).
unsafe fn tenor_integer(kind: NumberKind, d: Datum) -> Option<i32> {
    unsafe {
        match kind {
            NumberKind::Int2 => Some(i32::from(d.value() as i16)),
            NumberKind::Int4 => Some(d.value() as i32),
            NumberKind::Int8 => i32::try_from(d.value() as i64).ok(),
            _ => {
                let numeric = kind.numeric(d);
                let whole = call2(fmgr::numeric_trunc, numeric, Datum::from(0i32));
                let in_range = bool_of(call2(fmgr::numeric_eq, numeric, whole))
                    && bool_of(call2(fmgr::numeric_ge, numeric, numeric_in("-2147483648")))
                    && bool_of(call2(fmgr::numeric_le, numeric, numeric_in("2147483647")));
                in_range.then(|| call1(fmgr::numeric_int4, numeric).value() as i32)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Writing the extension's tables
// ---------------------------------------------------------------------------

/// One of the extension's tables, open for writing, with its indexes.
struct Target {
    rel: pg_sys::Relation,
    rri: *mut pg_sys::ResultRelInfo,
    desc: pg_sys::TupleDesc,
}

impl Target {
    unsafe fn open(oid: Oid) -> Target {
        unsafe {
            let rel = pg_sys::table_open(oid, pg_sys::RowExclusiveLock as i32);
            let rri = pg_sys::palloc0(size_of::<pg_sys::ResultRelInfo>()) as *mut pg_sys::ResultRelInfo;
            (*rri).type_ = pg_sys::NodeTag::T_ResultRelInfo;
            pg_sys::InitResultRelInfo(rri, rel, 1, std::ptr::null_mut(), 0);
            pg_sys::ExecOpenIndices(rri, false);
            Target { rel, rri, desc: (*rel).rd_att }
        }
    }

    unsafe fn attnum(&self, name: &str) -> usize {
        unsafe { attnum_of(self.desc, name, "a credit_scoring table") as usize - 1 }
    }

    /// Index entries for a tuple just written. (Never flagged as an
    /// UPDATE's: that hint reads the statement's range table, which this
    /// EState has not; it only helps bottom-up index deletion.)
    unsafe fn index(&self, slot: *mut pg_sys::TupleTableSlot, estate: *mut pg_sys::EState) {
        unsafe {
            if (*self.rri).ri_NumIndices == 0 {
                return;
            }
            #[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15"))]
            pg_sys::ExecInsertIndexTuples(
                self.rri,
                slot,
                estate,
                false,
                false,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            #[cfg(not(any(feature = "pg13", feature = "pg14", feature = "pg15")))]
            pg_sys::ExecInsertIndexTuples(
                self.rri,
                slot,
                estate,
                false,
                false,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                false,
            );
            let econtext = (*estate).es_per_tuple_exprcontext;
            if !econtext.is_null() {
                pg_sys::MemoryContextReset((*econtext).ecxt_per_tuple_memory);
            }
        }
    }

    unsafe fn close(self) {
        unsafe {
            pg_sys::ExecCloseIndices(self.rri);
            pg_sys::table_close(self.rel, pg_sys::NoLock as i32);
        }
    }
}

/// Rows of one table waiting for a `heap_multi_insert`.
struct Batch {
    target: Target,
    slots: Vec<*mut pg_sys::TupleTableSlot>,
    filled: usize,
    bistate: pg_sys::BulkInsertState,
    flush_cxt: pg_sys::MemoryContext,
}

impl Batch {
    unsafe fn new(target: Target, parent: pg_sys::MemoryContext) -> Batch {
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(parent);
            let slots =
                (0..BATCH).map(|_| pg_sys::table_slot_create(target.rel, std::ptr::null_mut())).collect();
            let flush_cxt = pg_sys::AllocSetContextCreateInternal(
                parent,
                c"credit_scoring flush".as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            );
            let bistate = pg_sys::GetBulkInsertState();
            pg_sys::MemoryContextSwitchTo(old);
            Batch { target, slots, filled: 0, bistate, flush_cxt }
        }
    }

    /// The next row's values (all NULL), to be filled and then `push`ed.
    unsafe fn next(&mut self) -> (&mut [Datum], &mut [bool]) {
        unsafe {
            let slot = self.slots[self.filled];
            clear_slot(slot);
            let n = (*self.target.desc).natts as usize;
            let nulls = std::slice::from_raw_parts_mut((*slot).tts_isnull, n);
            nulls.fill(true);
            (std::slice::from_raw_parts_mut((*slot).tts_values, n), nulls)
        }
    }

    /// Takes the row filled by `next`: its values are copied into the
    /// slot, so what they point to may go.
    unsafe fn push(&mut self, estate: *mut pg_sys::EState) {
        unsafe {
            let slot = self.slots[self.filled];
            pg_sys::ExecStoreVirtualTuple(slot);
            (*(*slot).tts_ops).materialize.expect("slot ops")(slot);
            self.filled += 1;
            if self.filled == BATCH {
                self.flush(estate);
            }
        }
    }

    unsafe fn flush(&mut self, estate: *mut pg_sys::EState) {
        if self.filled == 0 {
            return;
        }
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(self.flush_cxt);
            pg_sys::heap_multi_insert(
                self.target.rel,
                self.slots.as_mut_ptr(),
                self.filled as i32,
                pg_sys::GetCurrentCommandId(true),
                0,
                self.bistate,
            );
            for &slot in &self.slots[..self.filled] {
                self.target.index(slot, estate);
            }
            pg_sys::MemoryContextSwitchTo(old);
            pg_sys::MemoryContextReset(self.flush_cxt);
            for &slot in &self.slots[..self.filled] {
                clear_slot(slot);
            }
        }
        self.filled = 0;
    }

    unsafe fn finish(mut self, estate: *mut pg_sys::EState) {
        unsafe {
            self.flush(estate);
            pg_sys::FreeBulkInsertState(self.bistate);
            for slot in self.slots {
                pg_sys::ExecDropSingleTupleTableSlot(slot);
            }
            self.target.close();
        }
    }
}

/// Probes of a `(table_name, row_key, ...)` index.
struct Probe {
    scan: pg_sys::IndexScanDesc,
    slot: *mut pg_sys::TupleTableSlot,
    index: pg_sys::Relation,
    keys: [pg_sys::ScanKeyData; 2],
    /// Where the scan lives: the index AM allocates as it goes (say, the
    /// list of dead items to mark), and the per-row context is reset.
    cxt: pg_sys::MemoryContext,
}

impl Probe {
    unsafe fn open(heap: pg_sys::Relation, index_oid: Oid, snapshot: pg_sys::Snapshot) -> Probe {
        unsafe {
            let index = pg_sys::index_open(index_oid, pg_sys::AccessShareLock as i32);
            let scan = pg_sys::index_beginscan(heap, index, snapshot, 2, 0);
            let slot = pg_sys::table_slot_create(heap, std::ptr::null_mut());
            Probe { scan, slot, index, keys: std::mem::zeroed(), cxt: pg_sys::CurrentMemoryContext }
        }
    }

    /// Starts a scan over the entries of one row of one table.
    unsafe fn row(&mut self, table_name: Datum, row_key: Datum) {
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(self.cxt);
            for (i, value) in [table_name, row_key].into_iter().enumerate() {
                pg_sys::ScanKeyEntryInitialize(
                    &mut self.keys[i],
                    0,
                    (i + 1) as pg_sys::AttrNumber,
                    pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
                    pg_sys::InvalidOid,
                    *(*self.index).rd_indcollation.add(i),
                    Oid::from(pg_sys::F_TEXTEQ),
                    value,
                );
            }
            pg_sys::index_rescan(self.scan, self.keys.as_mut_ptr(), 2, std::ptr::null_mut(), 0);
            pg_sys::MemoryContextSwitchTo(old);
        }
    }

    /// The next entry, newest first when `backward`.
    unsafe fn next(&mut self, backward: bool) -> bool {
        let direction = if backward {
            pg_sys::ScanDirection::BackwardScanDirection
        } else {
            pg_sys::ScanDirection::ForwardScanDirection
        };
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(self.cxt);
            let found = pg_sys::index_getnext_slot(self.scan, direction, self.slot);
            pg_sys::MemoryContextSwitchTo(old);
            found
        }
    }

    unsafe fn close(self) {
        unsafe {
            pg_sys::index_endscan(self.scan);
            pg_sys::ExecDropSingleTupleTableSlot(self.slot);
            pg_sys::index_close(self.index, pg_sys::NoLock as i32);
        }
    }
}

// ---------------------------------------------------------------------------
// Reading the transition tables
// ---------------------------------------------------------------------------

struct Reader {
    store: *mut pg_sys::Tuplestorestate,
    pointer: i32,
    slot: *mut pg_sys::TupleTableSlot,
    /// A tuple read back from a spilled store is palloc'd here and freed
    /// by the next read: not in the per-row context, which is reset.
    cxt: pg_sys::MemoryContext,
}

impl Reader {
    unsafe fn open(store: *mut pg_sys::Tuplestorestate, desc: pg_sys::TupleDesc) -> Reader {
        unsafe {
            let pointer = pg_sys::tuplestore_alloc_read_pointer(store, pg_sys::EXEC_FLAG_REWIND as i32);
            pg_sys::tuplestore_select_read_pointer(store, pointer);
            pg_sys::tuplestore_rescan(store);
            let slot = pg_sys::MakeSingleTupleTableSlot(desc, &pg_sys::TTSOpsMinimalTuple);
            Reader { store, pointer, slot, cxt: pg_sys::CurrentMemoryContext }
        }
    }

    unsafe fn next(&mut self) -> bool {
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(self.cxt);
            pg_sys::tuplestore_select_read_pointer(self.store, self.pointer);
            let found = pg_sys::tuplestore_gettupleslot(self.store, true, false, self.slot);
            pg_sys::MemoryContextSwitchTo(old);
            found
        }
    }

    unsafe fn close(self) {
        unsafe { pg_sys::ExecDropSingleTupleTableSlot(self.slot) };
    }
}

/// What the statement's old row says (UPDATE).
#[derive(Clone)]
struct OldRow {
    credit_score: Option<i32>,
    segment: Option<Vec<u8>>,
    scored_at: Option<i64>,
}

// ---------------------------------------------------------------------------
// The trigger
// ---------------------------------------------------------------------------

function_info_v1!(pg_finfo_credit_record_scores);
/// `credit.record_scores()`: AFTER INSERT / UPDATE / DELETE FOR EACH
/// STATEMENT, with transition tables `credit_new` / `credit_old`.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn credit_record_scores(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe { pg_sys::submodules::panic::pgrx_extern_c_guard(|| record_scores(fcinfo)) }
}

unsafe fn record_scores(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe {
        let td = crate::triggers::trigger_data(fcinfo, "credit.record_scores()");
        let event = (*td).tg_event;
        if event & pg_sys::TRIGGER_EVENT_ROW != 0
            || event & pg_sys::TRIGGER_EVENT_TIMINGMASK != pg_sys::TRIGGER_EVENT_AFTER
        {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                "credit.record_scores() must fire AFTER ... FOR EACH STATEMENT"
            );
        }
        let op = event & pg_sys::TRIGGER_EVENT_OPMASK;
        let keep = pg_sys::CurrentMemoryContext;
        if pg_sys::SPI_connect() < 0 {
            config_error("credit_scoring: SPI_connect failed".into());
        }
        let relid = (*(*td).tg_relation).rd_id;
        if let Some(cfg) = Config::load(relid, keep) {
            if op == pg_sys::TRIGGER_EVENT_DELETE {
                forget_deleted(td, &cfg);
            } else if !(*td).tg_newtable.is_null() {
                let old = pg_sys::MemoryContextSwitchTo(keep);
                Recorder::new(td, cfg, keep).run(td, op == pg_sys::TRIGGER_EVENT_UPDATE);
                pg_sys::MemoryContextSwitchTo(old);
            }
        }
        pg_sys::SPI_finish();
        Datum::from(0)
    }
}

/// A deleted row leaves the current views; its history stays.
unsafe fn forget_deleted(td: *mut pg_sys::TriggerData, cfg: &Config) {
    unsafe {
        if (*td).tg_oldtable.is_null() {
            return;
        }
        pg_sys::SPI_register_trigger_data(td);
        let query = format!(
            "DELETE FROM credit.latest_scores l USING credit_old o
             WHERE l.table_name = $1 AND l.row_key = o.{}::text",
            crate::triggers::quote_ident(&cfg.key_column)
        );
        let name = text_datum(cfg.table_name.as_bytes());
        let rc = spi_execute(&query, pg_sys::TEXTOID, name, false, 0);
        if rc != pg_sys::SPI_OK_DELETE as i32 {
            config_error(format!("credit_scoring: forgetting deleted rows failed ({rc})"));
        }
    }
}

/// Attribute numbers of the score columns of the scored table.
struct Outputs {
    credit_score: i32,
    default_probability: i32,
    segment: i32,
    scored_at: i32,
    decision: i32,
}

/// Where each value goes in the extension's tables (0-based).
struct HistoryColumns {
    id: usize,
    table_name: usize,
    row_key: usize,
    monthly_income: usize,
    assets: usize,
    loan_amount: usize,
    tenor_months: usize,
    credit_score: usize,
    default_probability: usize,
    segment: usize,
    scorecard: usize,
    scored_at: usize,
    decision: usize,
    decision_reasons: usize,
    previous_segment: usize,
    first_scoring: usize,
}

struct AlertColumns {
    id: usize,
    table_name: usize,
    row_key: usize,
    kind: usize,
    old_score: usize,
    new_score: usize,
    score_drop: usize,
    old_segment: usize,
    new_segment: usize,
    details: usize,
    created_at: usize,
}

struct LatestColumns {
    table_name: usize,
    row_key: usize,
    history_id: usize,
    credit_score: usize,
    default_probability: usize,
    segment: usize,
    loan_amount: usize,
    decision: usize,
}

/// Layout 2: income and assets of the customer a row references.
struct Customers {
    reference: i32,
    plan: pg_sys::SPIPlanPtr,
}

/// One alert about to be written.
struct Alert<'a> {
    kind: Datum,
    old_score: Option<i32>,
    new_score: Option<i32>,
    score_drop: Option<i32>,
    old_segment: Option<&'a [u8]>,
    new_segment: Option<Datum>,
    details: String,
}

struct Recorder {
    cfg: Config,
    card: &'static Scorecard,
    desc: pg_sys::TupleDesc,
    key: (i32, Oid),
    income: Option<Input>,
    assets: Option<Input>,
    amount: Input,
    tenor: Input,
    customers: Option<Customers>,
    outputs: Outputs,
    estate: *mut pg_sys::EState,
    history: Batch,
    alerts: Batch,
    latest: Target,
    latest_slot: *mut pg_sys::TupleTableSlot,
    history_columns: HistoryColumns,
    alert_columns: AlertColumns,
    latest_columns: LatestColumns,
    history_probe: Probe,
    alerts_probe: Probe,
    latest_probe: Probe,
    row_cxt: pg_sys::MemoryContext,
    table_name: Datum,
    scorecard: Datum,
    zero: Datum,
    kinds: [Datum; 3],
    /// decision_reasons arrays by reason bits, made when first needed.
    reasons: HashMap<u8, Datum>,
    /// The scorecard's default probabilities, as numerics.
    probabilities: Vec<Datum>,
    /// The alert ratio in millionths, when it has at most 6 decimals.
    ratio_micros: Option<u128>,
    now: i64,
    /// The statement's snapshot, for the look-ups into history and alerts.
    snapshot: pg_sys::Snapshot,
    /// The statement's memory: what lives as long as this trigger call.
    keep: pg_sys::MemoryContext,
}

impl Recorder {
    unsafe fn new(td: *mut pg_sys::TriggerData, cfg: Config, keep: pg_sys::MemoryContext) -> Recorder {
        unsafe {
            let rel = (*td).tg_relation;
            let desc = (*rel).rd_att;
            let table = CStr::from_ptr((*(*rel).rd_rel).relname.data.as_ptr()).to_string_lossy().into_owned();
            let key = crate::triggers::column(desc, &cfg.key_column, &table);
            let (income, assets, customers) = match &cfg.customers {
                None => (
                    Some(Input::resolve(desc, &cfg.income_column, &table)),
                    Some(Input::resolve(desc, &cfg.assets_column, &table)),
                    None,
                ),
                Some((customers, customers_key, customer_ref)) => {
                    let (reference, reference_type) = crate::triggers::column(desc, customer_ref, &table);
                    let query = CString::new(format!(
                        "SELECT c.{}::numeric, c.{}::numeric FROM {} c WHERE c.{} = $1",
                        crate::triggers::quote_ident(&cfg.income_column),
                        crate::triggers::quote_ident(&cfg.assets_column),
                        customers,
                        crate::triggers::quote_ident(customers_key)
                    ))
                    .expect("no NUL in identifiers");
                    let mut types = [reference_type];
                    let plan = pg_sys::SPI_prepare(query.as_ptr(), 1, types.as_mut_ptr());
                    pg_sys::MemoryContextSwitchTo(keep);
                    if plan.is_null() {
                        config_error(format!(
                            "credit_scoring: cannot prepare the customer lookup on {customers}"
                        ));
                    }
                    (None, None, Some(Customers { reference, plan }))
                }
            };
            let output = |name: &str| attnum_of(desc, name, &table);
            let outputs = Outputs {
                credit_score: output("credit_score"),
                default_probability: output("default_probability"),
                segment: output("segment"),
                scored_at: output("scored_at"),
                decision: output("decision"),
            };
            let estate = pg_sys::CreateExecutorState();
            let history = Target::open(cfg.history);
            let alerts = Target::open(cfg.alerts);
            let latest = Target::open(cfg.latest);
            let h = |n: &str| history.attnum(n);
            let history_columns = HistoryColumns {
                id: h("id"),
                table_name: h("table_name"),
                row_key: h("row_key"),
                monthly_income: h("monthly_income"),
                assets: h("assets"),
                loan_amount: h("loan_amount"),
                tenor_months: h("tenor_months"),
                credit_score: h("credit_score"),
                default_probability: h("default_probability"),
                segment: h("segment"),
                scorecard: h("scorecard"),
                scored_at: h("scored_at"),
                decision: h("decision"),
                decision_reasons: h("decision_reasons"),
                previous_segment: h("previous_segment"),
                first_scoring: h("first_scoring"),
            };
            let a = |n: &str| alerts.attnum(n);
            let alert_columns = AlertColumns {
                id: a("id"),
                table_name: a("table_name"),
                row_key: a("row_key"),
                kind: a("kind"),
                old_score: a("old_score"),
                new_score: a("new_score"),
                score_drop: a("score_drop"),
                old_segment: a("old_segment"),
                new_segment: a("new_segment"),
                details: a("details"),
                created_at: a("created_at"),
            };
            let l = |n: &str| latest.attnum(n);
            let latest_columns = LatestColumns {
                table_name: l("table_name"),
                row_key: l("row_key"),
                history_id: l("history_id"),
                credit_score: l("credit_score"),
                default_probability: l("default_probability"),
                segment: l("segment"),
                loan_amount: l("loan_amount"),
                decision: l("decision"),
            };
            // What an SQL statement run here would see (READ COMMITTED: a
            // fresh snapshot, so what a concurrent writer of the same row
            // committed while this statement waited for it is seen, as its
            // history must be), registered as a copy: it stays put while
            // this writes.
            let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot());
            let history_probe = Probe::open(history.rel, cfg.history_row_index, snapshot);
            let alerts_probe = Probe::open(alerts.rel, cfg.alerts_row_index, snapshot);
            let latest_probe = Probe::open(latest.rel, cfg.latest_index, &raw mut pg_sys::SnapshotSelfData);
            let latest_slot = pg_sys::MakeSingleTupleTableSlot(latest.desc, &pg_sys::TTSOpsHeapTuple);
            let row_cxt = pg_sys::AllocSetContextCreateInternal(
                keep,
                c"credit_scoring row".as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            );
            let card = crate::scorecards::named(&cfg.scorecard);
            Recorder {
                table_name: text_datum(cfg.table_name.as_bytes()),
                scorecard: text_datum(cfg.scorecard.as_bytes()),
                zero: numeric_in("0"),
                kinds: [text_datum(b"invalid_input"), text_datum(b"dsr_critical"), text_datum(b"score_drop")],
                card,
                desc,
                key,
                income,
                assets,
                amount: Input::resolve(desc, &cfg.amount_column, &table),
                tenor: Input::resolve(desc, &cfg.tenor_column, &table),
                customers,
                outputs,
                estate,
                history: Batch::new(history, keep),
                alerts: Batch::new(alerts, keep),
                latest,
                latest_slot,
                history_columns,
                alert_columns,
                latest_columns,
                history_probe,
                alerts_probe,
                latest_probe,
                row_cxt,
                reasons: HashMap::new(),
                probabilities: card.probabilities.iter().map(|p| numeric::from_fixed((*p).into())).collect(),
                ratio_micros: micros(&cfg.ratio_text),
                now: pg_sys::GetCurrentTransactionStartTimestamp(),
                snapshot,
                keep,
                cfg,
            }
        }
    }
}

/// Sets value `i` of a row being filled (`None`: NULL).
#[inline]
unsafe fn put(values: *mut Datum, nulls: *mut bool, i: usize, value: Option<Datum>) {
    unsafe {
        match value {
            Some(d) => {
                *values.add(i) = d;
                *nulls.add(i) = false;
            }
            None => *nulls.add(i) = true,
        }
    }
}

impl Batch {
    /// Raw pointers to the values of the row `next` prepared.
    unsafe fn row(&mut self) -> (*mut Datum, *mut bool) {
        unsafe {
            let (values, nulls) = self.next();
            (values.as_mut_ptr(), nulls.as_mut_ptr())
        }
    }
}

/// What a statement's old row said.
struct Prior<'a> {
    credit_score: Option<i32>,
    segment: Option<&'a [u8]>,
    scored_at: Option<i64>,
}

impl Recorder {
    unsafe fn run(mut self, td: *mut pg_sys::TriggerData, update: bool) {
        unsafe {
            let (mut key_output, mut varlena) = (pg_sys::InvalidOid, false);
            pg_sys::getTypeOutputInfo(self.key.1, &mut key_output, &mut varlena);
            let key_text = |slot: *mut pg_sys::TupleTableSlot, key: i32| -> Option<*mut std::ffi::c_char> {
                attr(slot, key).map(|d| pg_sys::OidOutputFunctionCall(key_output, d))
            };
            let mut new = Reader::open((*td).tg_newtable, self.desc);
            let mut old =
                (update && !(*td).tg_oldtable.is_null()).then(|| Reader::open((*td).tg_oldtable, self.desc));
            // Old rows by key, when the transition tables are not in the
            // same order (never seen; the positional pairing checks keys).
            let mut old_by_key: Option<HashMap<Vec<u8>, OldRow>> = None;
            let key = self.key.0;
            while new.next() {
                pgrx::check_for_interrupts!();
                let outer = pg_sys::MemoryContextSwitchTo(self.row_cxt);
                let Some(row_key_c) = key_text(new.slot, key) else {
                    ereport!(
                        ERROR,
                        PgSqlErrorCode::ERRCODE_NOT_NULL_VIOLATION,
                        format!(
                            "credit_scoring: the row key column \"{}\" of {} is NULL",
                            self.cfg.key_column, self.cfg.table_name
                        ),
                        "Every scored row needs a key: history and alerts name the row by it."
                    );
                };
                let row_key_bytes = CStr::from_ptr(row_key_c).to_bytes();
                let mut positional: Option<Prior> = None;
                let mut from_map: Option<OldRow> = None;
                if let Some(o) = old.as_mut() {
                    if old_by_key.is_none() {
                        let same = o.next()
                            && key_text(o.slot, key)
                                .is_some_and(|c| CStr::from_ptr(c).to_bytes() == row_key_bytes);
                        if same {
                            positional = Some(Prior {
                                credit_score: attr(o.slot, self.outputs.credit_score)
                                    .map(|d| d.value() as i32),
                                segment: attr(o.slot, self.outputs.segment).map(|d| text_bytes(d)),
                                scored_at: attr(o.slot, self.outputs.scored_at).map(|d| d.value() as i64),
                            });
                        } else {
                            old_by_key = Some(self.old_rows((*td).tg_oldtable, &key_text));
                            pg_sys::MemoryContextSwitchTo(self.row_cxt);
                        }
                    }
                    if let Some(map) = &old_by_key {
                        from_map = map.get(row_key_bytes).cloned();
                    }
                }
                let prior = positional.or_else(|| {
                    from_map.as_ref().map(|o| Prior {
                        credit_score: o.credit_score,
                        segment: o.segment.as_deref(),
                        scored_at: o.scored_at,
                    })
                });
                let scored_at = attr(new.slot, self.outputs.scored_at);
                // A row an unrelated UPDATE touched keeps its scored_at: not
                // rescored, nothing to record.
                let rescored = if update {
                    prior.as_ref().is_none_or(|p| p.scored_at != scored_at.map(|d| d.value() as i64))
                } else {
                    scored_at.is_some()
                };
                if rescored {
                    let row_key = text_datum(row_key_bytes);
                    self.record(new.slot, row_key, scored_at, update, prior.as_ref());
                }
                pg_sys::MemoryContextSwitchTo(outer);
                pg_sys::MemoryContextReset(self.row_cxt);
            }
            new.close();
            if let Some(o) = old {
                o.close();
            }
            // Keys the statement changed (the only way the positional
            // pairing fails): a row whose key moved left its old key, as a
            // deleted row does.
            if let Some(map) = old_by_key {
                let mut moved_to = HashSet::new();
                let mut reader = Reader::open((*td).tg_newtable, self.desc);
                while reader.next() {
                    let outer = pg_sys::MemoryContextSwitchTo(self.row_cxt);
                    if let Some(c) = key_text(reader.slot, key) {
                        moved_to.insert(CStr::from_ptr(c).to_bytes().to_vec());
                    }
                    pg_sys::MemoryContextSwitchTo(outer);
                    pg_sys::MemoryContextReset(self.row_cxt);
                }
                reader.close();
                let left: Vec<&[u8]> =
                    map.keys().filter(|k| !moved_to.contains(*k)).map(|k| k.as_slice()).collect();
                if !left.is_empty() {
                    self.forget_keys(td, &left);
                }
            }
            self.finish();
        }
    }

    /// Takes keys no row of the table carries any more out of
    /// credit.latest_scores (a row with the same key outside the
    /// statement keeps it, when the key column is not unique).
    unsafe fn forget_keys(&self, td: *mut pg_sys::TriggerData, keys: &[&[u8]]) {
        unsafe {
            let rel = (*td).tg_relation;
            let name = pg_sys::quote_qualified_identifier(
                pg_sys::get_namespace_name((*(*rel).rd_rel).relnamespace),
                (*(*rel).rd_rel).relname.data.as_ptr(),
            );
            let query = CString::new(format!(
                "DELETE FROM credit.latest_scores l WHERE l.table_name = $1 AND l.row_key = ANY($2)
                   AND NOT EXISTS (SELECT FROM {} t WHERE t.{} = l.row_key::{})",
                CStr::from_ptr(name).to_string_lossy(),
                crate::triggers::quote_ident(&self.cfg.key_column),
                // (the base type of a domain: casting to the domain would
                // run its CHECK constraints, its owner's code, here)
                CStr::from_ptr(pg_sys::format_type_be(pg_sys::getBaseType(self.key.1))).to_string_lossy()
            ))
            .expect("no NUL in identifiers");
            let mut types = [pg_sys::TEXTOID, pg_sys::TEXTARRAYOID];
            let mut args = [self.table_name, text_array(keys.iter().copied())];
            let rc = pg_sys::SPI_execute_with_args(
                query.as_ptr(),
                2,
                types.as_mut_ptr(),
                args.as_mut_ptr(),
                std::ptr::null(),
                false,
                0,
            );
            pg_sys::MemoryContextSwitchTo(self.keep);
            if rc != pg_sys::SPI_OK_DELETE as i32 {
                config_error(format!("credit_scoring: forgetting moved row keys failed ({rc})"));
            }
        }
    }

    /// Every old row by key (the fallback pairing).
    unsafe fn old_rows(
        &self,
        store: *mut pg_sys::Tuplestorestate,
        key_text: &dyn Fn(*mut pg_sys::TupleTableSlot, i32) -> Option<*mut std::ffi::c_char>,
    ) -> HashMap<Vec<u8>, OldRow> {
        unsafe {
            let mut all = HashMap::new();
            let outer = pg_sys::MemoryContextSwitchTo(self.keep);
            let mut reader = Reader::open(store, self.desc);
            pg_sys::MemoryContextSwitchTo(outer);
            while reader.next() {
                if let Some(c) = key_text(reader.slot, self.key.0) {
                    all.insert(
                        CStr::from_ptr(c).to_bytes().to_vec(),
                        OldRow {
                            credit_score: attr(reader.slot, self.outputs.credit_score)
                                .map(|d| d.value() as i32),
                            segment: attr(reader.slot, self.outputs.segment).map(|d| text_bytes(d).to_vec()),
                            scored_at: attr(reader.slot, self.outputs.scored_at).map(|d| d.value() as i64),
                        },
                    );
                }
            }
            reader.close();
            all
        }
    }

    /// Income and assets (`::numeric`, NULL as stored) of a row.
    unsafe fn income_and_assets(&self, slot: *mut pg_sys::TupleTableSlot) -> (Option<Datum>, Option<Datum>) {
        unsafe {
            match &self.customers {
                None => {
                    let read =
                        |c: Option<Input>| c.and_then(|c| attr(slot, c.attnum).map(|d| c.kind.numeric(d)));
                    (read(self.income), read(self.assets))
                }
                Some(c) => {
                    let Some(reference) = attr(slot, c.reference) else {
                        return (None, None);
                    };
                    let mut args = [reference];
                    // read_only = false: a fresh snapshot, so the income read
                    // is the one the row trigger scored with (it locked the
                    // customer and read the committed row).
                    let rc = pg_sys::SPI_execute_plan(c.plan, args.as_mut_ptr(), std::ptr::null(), false, 1);
                    // (SPI returns in its own memory context: back to the row's.)
                    pg_sys::MemoryContextSwitchTo(self.row_cxt);
                    let mut found = (None, None);
                    if rc == pg_sys::SPI_OK_SELECT as i32 && pg_sys::SPI_processed == 1 {
                        let table = pg_sys::SPI_tuptable;
                        let (row, desc) = (*(*table).vals, (*table).tupdesc);
                        let read = |i: i32| {
                            let mut isnull = false;
                            let d = pg_sys::SPI_getbinval(row, desc, i, &mut isnull);
                            (!isnull).then(|| Datum::from(pg_sys::pg_detoast_datum_copy(d.cast_mut_ptr())))
                        };
                        found = (read(1), read(2));
                    }
                    // (also when no customer was found: not one tuptable
                    // per row kept to the end of the statement)
                    pg_sys::SPI_freetuptable(pg_sys::SPI_tuptable);
                    found
                }
            }
        }
    }

    /// One scoring: its history row, its latest score, its alerts.
    unsafe fn record(
        &mut self,
        slot: *mut pg_sys::TupleTableSlot,
        row_key: Datum,
        scored_at: Option<Datum>,
        update: bool,
        prior: Option<&Prior>,
    ) {
        unsafe {
            let first = !update || prior.is_none_or(|p| p.scored_at.is_none());
            let old_score = prior.and_then(|p| p.credit_score);
            let old_segment = prior.and_then(|p| p.segment);
            let (income_value, assets_value) = self.income_and_assets(slot);
            // NULL income or assets count as 0, as the old service did.
            let income = income_value.unwrap_or(self.zero);
            let assets = assets_value.unwrap_or(self.zero);
            let tenor_raw = attr(slot, self.tenor.attnum);
            let amount = attr(slot, self.amount.attnum).map(|d| self.amount.kind.numeric(d));
            let tenor_months = tenor_raw.and_then(|d| tenor_integer(self.tenor.kind, d));
            let credit_score = attr(slot, self.outputs.credit_score).map(|d| d.value() as i32);
            let segment = attr(slot, self.outputs.segment);
            let default_probability = attr(slot, self.outputs.default_probability);
            let decision = attr(slot, self.outputs.decision);

            // The application as the row trigger scored it (None: its
            // inputs are invalid).
            let app = match (amount, tenor_months) {
                (Some(amount), Some(tenor)) => (|| {
                    Application::new(
                        numeric::to_amount(income).ok()?,
                        numeric::to_amount(assets).ok()?,
                        numeric::to_amount(amount).ok()?,
                        tenor,
                    )
                    .ok()
                })(),
                _ => None,
            };
            let assessment = app.as_ref().map(|a| self.card.evaluate(a));
            if self.customers.is_none() {
                self.check_scored(
                    row_key,
                    assessment.as_ref(),
                    credit_score,
                    default_probability,
                    segment,
                    decision,
                );
            }
            let app = app.filter(|_| credit_score.is_some());

            // Alerts first: their look-ups see the rows as they were.
            let mut alerts: [Option<Alert>; 2] = [None, None];
            match (credit_score, amount, tenor_months) {
                (None, _, _) => {
                    let tenor_value = tenor_raw.map(|d| self.tenor.kind.numeric(d));
                    let reason =
                        crate::triggers::why_invalid(income_value, assets_value, amount, tenor_value)
                            .unwrap_or_else(|| "invalid input".into());
                    let mut details = String::from("{\"reason\": ");
                    details.push_str(&serde_json::to_string(&reason).expect("a string serializes"));
                    details.push_str(", \"monthly_income\": ");
                    json_number(Some(income), &mut details);
                    details.push_str(", \"assets\": ");
                    json_number(Some(assets), &mut details);
                    details.push_str(", \"loan_amount\": ");
                    json_number(amount, &mut details);
                    details.push_str(", \"tenor_months\": ");
                    json_number(tenor_value, &mut details);
                    details.push('}');
                    alerts[0] = Some(Alert {
                        kind: self.kinds[0],
                        old_score,
                        new_score: None,
                        score_drop: None,
                        old_segment,
                        new_segment: None,
                        details,
                    });
                }
                (Some(score), Some(amount), Some(months)) => {
                    let tenor = call1(fmgr::int4_numeric, Datum::from(months));
                    // Exact in the core when the ratio has at most 6 decimals
                    // (the usual case), else with numeric arithmetic.
                    let critical = match (&app, self.ratio_micros) {
                        (Some(app), Some(ratio)) => self.card.dsr_above(app, ratio),
                        _ => self.critical(income, amount, tenor),
                    };
                    if critical && !self.was_critical(row_key) {
                        let installment = call2(fmgr::numeric_mul, amount, self.cfg.one_plus_margin);
                        let dsr =
                            call2(fmgr::numeric_div, call2(fmgr::numeric_div, installment, tenor), income);
                        let dsr = call2(fmgr::numeric_round, dsr, Datum::from(6i32));
                        let mut details = String::from("{\"dsr\": ");
                        json_number(Some(dsr), &mut details);
                        details.push_str(", \"dsr_alert_ratio\": ");
                        details.push_str(&self.cfg.ratio_text);
                        details.push('}');
                        alerts[0] = Some(Alert {
                            kind: self.kinds[1],
                            old_score,
                            new_score: Some(score),
                            score_drop: None,
                            old_segment,
                            new_segment: segment,
                            details,
                        });
                    }
                    alerts[1] = self.score_drop(row_key, score, old_score, old_segment, segment);
                }
                (Some(score), _, _) => {
                    alerts[1] = self.score_drop(row_key, score, old_score, old_segment, segment)
                }
            }

            // The history row.
            let history_id: i64 = call1(fmgr::nextval_oid, Datum::from(self.cfg.history_seq)).value() as i64;
            let reasons = match (&app, &assessment) {
                (Some(_), Some(a)) => self.decision_reasons(a.decision_reasons),
                _ => None,
            };
            let c = &self.history_columns;
            let (v, n) = self.history.row();
            put(v, n, c.id, Some(Datum::from(history_id)));
            put(v, n, c.table_name, Some(self.table_name));
            put(v, n, c.row_key, Some(row_key));
            put(v, n, c.monthly_income, Some(income));
            put(v, n, c.assets, Some(assets));
            put(v, n, c.loan_amount, amount);
            put(v, n, c.tenor_months, tenor_months.map(Datum::from));
            put(v, n, c.credit_score, credit_score.map(Datum::from));
            put(v, n, c.default_probability, default_probability);
            put(v, n, c.segment, segment);
            put(v, n, c.scorecard, Some(self.scorecard));
            put(v, n, c.scored_at, scored_at);
            put(v, n, c.decision, decision);
            put(v, n, c.decision_reasons, reasons);
            put(v, n, c.previous_segment, if update { old_segment.map(|s| text_datum(s)) } else { None });
            put(v, n, c.first_scoring, Some(Datum::from(first)));
            self.history.push(self.estate);

            self.upsert_latest(
                row_key,
                history_id,
                credit_score,
                default_probability,
                segment,
                amount,
                decision,
            );

            for alert in alerts.into_iter().flatten() {
                self.alert(row_key, alert);
            }
        }
    }

    /// The row's score columns must be what its scorecard gives for its
    /// inputs: anything else was not written by the scoring trigger (it was
    /// disabled, or a BEFORE trigger firing after it changed an input), and
    /// is refused rather than recorded as history. (Layout 1 only: in
    /// layout 2 a customer may change between the row trigger's read and
    /// this one, and its own rescoring follows.)
    unsafe fn check_scored(
        &self,
        row_key: Datum,
        expected: Option<&credit_core::Assessment>,
        credit_score: Option<i32>,
        default_probability: Option<Datum>,
        segment: Option<Datum>,
        decision: Option<Datum>,
    ) {
        unsafe {
            let same = match (expected, credit_score) {
                (None, None) => true,
                (Some(a), Some(score)) => {
                    a.credit_score == score
                        && segment.map(|d| text_bytes(d))
                            == Some(self.card.segment_names[a.segment as usize].as_bytes())
                        && decision.map(|d| text_bytes(d)) == Some(a.decision.name().as_bytes())
                        && default_probability.is_some_and(|d| {
                            bool_of(call2(
                                fmgr::numeric_eq,
                                d,
                                self.probabilities[a.default_probability as usize],
                            ))
                        })
                }
                _ => false,
            };
            if !same {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    format!(
                        "credit_scoring: the score columns of row {} of {} are not the score of its inputs",
                        String::from_utf8_lossy(text_bytes(row_key)),
                        self.cfg.table_name
                    ),
                    "Was the trigger credit_scoring_score disabled, or does a BEFORE trigger that fires after it (triggers fire in name order) change an input? credit.enable_scoring attaches it again."
                );
            }
        }
    }

    /// installment / income above the alert ratio, exactly (cross-multiplied,
    /// as the SQL wrote it: amount × (1 + margin) > ratio × income × tenor).
    unsafe fn critical(&self, income: Datum, amount: Datum, tenor: Datum) -> bool {
        unsafe {
            bool_of(call2(fmgr::numeric_gt, income, self.zero))
                && bool_of(call2(
                    fmgr::numeric_gt,
                    call2(fmgr::numeric_mul, amount, self.cfg.one_plus_margin),
                    call2(fmgr::numeric_mul, call2(fmgr::numeric_mul, self.cfg.ratio, income), tenor),
                ))
        }
    }

    /// Was the row's previous history entry above the alert ratio?
    unsafe fn was_critical(&mut self, row_key: Datum) -> bool {
        unsafe {
            self.history_probe.row(self.table_name, row_key);
            if !self.history_probe.next(true) {
                return false;
            }
            let slot = self.history_probe.slot;
            let c = &self.history_columns;
            let get = |i: usize| attr(slot, i as i32 + 1);
            match (get(c.credit_score), get(c.monthly_income), get(c.loan_amount), get(c.tenor_months)) {
                (Some(_), Some(income), Some(amount), Some(tenor)) => {
                    self.critical(income, amount, call1(fmgr::int4_numeric, tenor))
                }
                _ => false,
            }
        }
    }

    /// The score_drop rule: fell by at least alert_drop_points below the
    /// highest score within the window (0: the previous score); a further
    /// alert in the window needs a further fall below the last one's score.
    unsafe fn score_drop<'a>(
        &mut self,
        row_key: Datum,
        score: i32,
        old_score: Option<i32>,
        old_segment: Option<&'a [u8]>,
        segment: Option<Datum>,
    ) -> Option<Alert<'a>> {
        let previous = old_score?;
        if score >= previous {
            return None;
        }
        let points = self.cfg.drop_points;
        let peak = if self.cfg.window_zero {
            previous
        } else {
            unsafe { self.window_peak(row_key) }.map_or(previous, |p| p.max(previous))
        };
        if peak - score < points {
            return None;
        }
        let last = if self.cfg.window_positive { unsafe { self.last_drop_alert(row_key) } } else { None };
        if last.is_some_and(|l| l - score < points) {
            return None;
        }
        let details = format!(
            "{{\"previous_score\": {previous}, \"alert_drop_points\": {points}, \"alert_window\": {}}}",
            serde_json::to_string(&self.cfg.window_text).expect("a string serializes")
        );
        Some(Alert {
            kind: self.kinds[2],
            old_score: Some(peak),
            new_score: Some(score),
            score_drop: Some(peak - score),
            old_segment,
            new_segment: segment,
            details,
        })
    }

    /// The highest score in the row's history within the window.
    unsafe fn window_peak(&mut self, row_key: Datum) -> Option<i32> {
        unsafe {
            self.history_probe.row(self.table_name, row_key);
            let (score, at) =
                (self.history_columns.credit_score as i32 + 1, self.history_columns.scored_at as i32 + 1);
            let mut peak = None;
            while self.history_probe.next(false) {
                let slot = self.history_probe.slot;
                if attr(slot, at).is_some_and(|d| d.value() as i64 >= self.cfg.window_start) {
                    if let Some(s) = attr(slot, score) {
                        peak = peak.max(Some(s.value() as i32));
                    }
                }
            }
            peak
        }
    }

    /// The new score of the row's last score_drop alert within the window.
    unsafe fn last_drop_alert(&mut self, row_key: Datum) -> Option<i32> {
        unsafe {
            self.alerts_probe.row(self.table_name, row_key);
            let c = &self.alert_columns;
            let (kind, at, new_score) = (c.kind as i32 + 1, c.created_at as i32 + 1, c.new_score as i32 + 1);
            while self.alerts_probe.next(true) {
                let slot = self.alerts_probe.slot;
                let is_drop = attr(slot, kind).is_some_and(|d| text_bytes(d) == b"score_drop");
                if is_drop && attr(slot, at).is_some_and(|d| d.value() as i64 >= self.cfg.window_start) {
                    return attr(slot, new_score).map(|d| d.value() as i32);
                }
            }
            None
        }
    }

    /// The decision's reasons (a text[]), as credit.decide gives them.
    unsafe fn decision_reasons(&mut self, bits: u8) -> Option<Datum> {
        unsafe {
            if let Some(&d) = self.reasons.get(&bits) {
                return Some(d);
            }
            let old = pg_sys::MemoryContextSwitchTo(self.keep);
            let d = text_array(self.card.decision_reasons(bits).into_iter().map(str::as_bytes));
            pg_sys::MemoryContextSwitchTo(old);
            self.reasons.insert(bits, d);
            Some(d)
        }
    }

    /// The row's entry in credit.latest_scores, inserted or updated.
    #[allow(clippy::too_many_arguments)]
    unsafe fn upsert_latest(
        &mut self,
        row_key: Datum,
        history_id: i64,
        credit_score: Option<i32>,
        default_probability: Option<Datum>,
        segment: Option<Datum>,
        loan_amount: Option<Datum>,
        decision: Option<Datum>,
    ) {
        unsafe {
            let natts = (*self.latest.desc).natts as usize;
            let mut values = vec![Datum::from(0); natts];
            let mut nulls = vec![true; natts];
            let (v, n) = (values.as_mut_ptr(), nulls.as_mut_ptr());
            let c = &self.latest_columns;
            put(v, n, c.table_name, Some(self.table_name));
            put(v, n, c.row_key, Some(row_key));
            put(v, n, c.history_id, Some(Datum::from(history_id)));
            put(v, n, c.credit_score, credit_score.map(Datum::from));
            put(v, n, c.default_probability, default_probability);
            put(v, n, c.segment, segment);
            put(v, n, c.loan_amount, loan_amount);
            put(v, n, c.decision, decision);
            let tuple = pg_sys::heap_form_tuple(self.latest.desc, v, n);
            self.latest_probe.row(self.table_name, row_key);
            let found = self.latest_probe.next(false);
            let update = if found {
                let mut tid = (*self.latest_probe.slot).tts_tid;
                update_tuple(self.latest.rel, &mut tid, tuple)
            } else {
                pg_sys::simple_heap_insert(self.latest.rel, tuple);
                true
            };
            if update || !found {
                pg_sys::ExecStoreHeapTuple(tuple, self.latest_slot, false);
                self.latest.index(self.latest_slot, self.estate);
                clear_slot(self.latest_slot);
            }
            if !self.cfg.key_unique {
                // The key may come again in this statement: let the next
                // probe see this version.
                pg_sys::CommandCounterIncrement();
            }
        }
    }

    unsafe fn alert(&mut self, row_key: Datum, a: Alert) {
        unsafe {
            let id: i64 = call1(fmgr::nextval_oid, Datum::from(self.cfg.alerts_seq)).value() as i64;
            let c = &self.alert_columns;
            let details = jsonb(&a.details);
            let (v, n) = self.alerts.row();
            put(v, n, c.id, Some(Datum::from(id)));
            put(v, n, c.table_name, Some(self.table_name));
            put(v, n, c.row_key, Some(row_key));
            put(v, n, c.kind, Some(a.kind));
            put(v, n, c.old_score, a.old_score.map(Datum::from));
            put(v, n, c.new_score, a.new_score.map(Datum::from));
            put(v, n, c.score_drop, a.score_drop.map(Datum::from));
            put(v, n, c.old_segment, a.old_segment.map(|s| text_datum(s)));
            put(v, n, c.new_segment, a.new_segment);
            put(v, n, c.details, Some(details));
            put(v, n, c.created_at, Some(Datum::from(self.now)));
            self.alerts.push(self.estate);
        }
    }

    unsafe fn finish(self) {
        unsafe {
            self.history.finish(self.estate);
            self.alerts.finish(self.estate);
            self.history_probe.close();
            self.alerts_probe.close();
            self.latest_probe.close();
            pg_sys::ExecDropSingleTupleTableSlot(self.latest_slot);
            self.latest.close();
            pg_sys::UnregisterSnapshot(self.snapshot);
            pg_sys::FreeExecutorState(self.estate);
            pg_sys::MemoryContextDelete(self.row_cxt);
        }
    }
}

/// Updates a tuple in place of another; true when its index entries must
/// be added (not a HOT update).
#[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15"))]
unsafe fn update_tuple(
    rel: pg_sys::Relation,
    tid: &mut pg_sys::ItemPointerData,
    tuple: pg_sys::HeapTuple,
) -> bool {
    unsafe {
        pg_sys::simple_heap_update(rel, tid, tuple);
        (*(*tuple).t_data).t_infomask2 & pg_sys::HEAP_ONLY_TUPLE as u16 == 0
    }
}

#[cfg(not(any(feature = "pg13", feature = "pg14", feature = "pg15")))]
unsafe fn update_tuple(
    rel: pg_sys::Relation,
    tid: &mut pg_sys::ItemPointerData,
    tuple: pg_sys::HeapTuple,
) -> bool {
    unsafe {
        let mut which = pg_sys::TU_UpdateIndexes::TU_None;
        pg_sys::simple_heap_update(rel, tid, tuple, &mut which);
        which != pg_sys::TU_UpdateIndexes::TU_None
    }
}
