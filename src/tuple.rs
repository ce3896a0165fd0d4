//! `credit.score_result` tuples formed directly.
//!
//! `heap_form_tuple` measured at 28 % of a `score_credit` call: it sizes and
//! copies all eleven values every row, although eight of them (score,
//! probability, segment, points, persona, reasons) depend only on the bands
//! an application fell into. So the data image of those is laid out once per
//! band combination, the way `heap_fill_tuple` lays it out, and each row only
//! appends its DSR, installment and recommendation. Debug builds check every
//! tuple byte for byte against `heap_form_tuple`.

use pgrx::pg_sys::{self, Datum};

/// Tuple header size for a tuple without nulls: MAXALIGN(offsetof(t_bits)).
const HEADER: usize = 24;
/// Largest varlena stored with a 1-byte header (VARATT_SHORT_MAX).
const SHORT_MAX: usize = 127;

/// A tuple header as `heap_form_tuple` writes it for this row type, taken
/// from a tuple it formed: type, type version and flag bits are the same for
/// every tuple of a descriptor (only the length differs), and copying them
/// keeps us independent of how a PostgreSQL release encodes them.
#[derive(Clone, Copy)]
pub struct Header([u8; HEADER]);

impl Header {
    /// # Safety
    /// `tuple` was formed by `heap_form_tuple` from the call site's descriptor.
    pub unsafe fn from_tuple(tuple: *const pg_sys::HeapTupleHeaderData) -> Option<Header> {
        unsafe {
            // No nulls and no external values: the data starts at 24.
            if usize::from((*tuple).t_hoff) != HEADER
                || (*tuple).t_infomask & (pg_sys::HEAP_HASNULL | pg_sys::HEAP_HASEXTERNAL) as u16 != 0
            {
                return None;
            }
            let mut h = [0u8; HEADER];
            std::ptr::copy_nonoverlapping(tuple as *const u8, h.as_mut_ptr(), HEADER);
            Some(Header(h))
        }
    }
}

/// The constant parts of one band combination's tuple data.
pub struct Template {
    /// credit_score, default_probability, segment: from data offset 0.
    prefix: Vec<u8>,
    /// dsr_points, acr_points, tenor_points, persona, reasons: laid out from
    /// a 4-aligned offset (the row pads to 4 before it).
    suffix: Vec<u8>,
}

/// The constants of a band combination, as datums.
pub struct Constants {
    pub credit_score: i32,
    pub default_probability: Datum,
    pub segment: Datum,
    pub dsr_points: i32,
    pub acr_points: i32,
    pub tenor_points: i32,
    pub persona: Datum,
    pub reasons: Datum,
}

impl Template {
    /// # Safety
    /// The datums are valid, non-toasted varlenas.
    pub unsafe fn new(c: &Constants) -> Template {
        unsafe {
            let mut prefix = Vec::new();
            push_int4(&mut prefix, c.credit_score);
            push_varlena(&mut prefix, payload(c.default_probability));
            push_varlena(&mut prefix, payload(c.segment));
            let mut suffix = Vec::new();
            push_int4(&mut suffix, c.dsr_points);
            push_int4(&mut suffix, c.acr_points);
            push_int4(&mut suffix, c.tenor_points);
            push_varlena(&mut suffix, payload(c.persona));
            push_varlena(&mut suffix, payload(c.reasons));
            Template { prefix, suffix }
        }
    }

    /// A composite datum: this template with the row's DSR, installment and
    /// recommendation (payloads: varlena contents without header), palloc'd
    /// in the current memory context.
    pub fn form(&self, header: &Header, dsr: &[u8], installment: &[u8], recommendation: &[u8]) -> Datum {
        let mut len = HEADER + self.prefix.len();
        len += varlena_len(len - HEADER, dsr.len());
        len += varlena_len(len - HEADER, installment.len());
        let suffix_at = HEADER + align4(len - HEADER);
        len = suffix_at + self.suffix.len();
        len += varlena_len(len - HEADER, recommendation.len());
        // SAFETY: a zeroed allocation of `len` bytes (padding stays zero,
        // as heap_fill_tuple leaves it); every write below stays within it.
        unsafe {
            let base = palloc0_unguarded(len) as *mut u8;
            std::ptr::copy_nonoverlapping(header.0.as_ptr(), base, HEADER);
            // HeapTupleHeaderSetDatumLength
            (*(base as *mut pg_sys::HeapTupleHeaderData)).t_choice.t_datum.datum_len_ =
                varsize_4b_word(len) as i32;
            let out = std::slice::from_raw_parts_mut(base, len);
            let mut at = HEADER;
            out[at..at + self.prefix.len()].copy_from_slice(&self.prefix);
            at += self.prefix.len();
            at = write_varlena(out, at, dsr);
            write_varlena(out, at, installment);
            let mut at = suffix_at;
            out[at..at + self.suffix.len()].copy_from_slice(&self.suffix);
            at += self.suffix.len();
            write_varlena(out, at, recommendation);
            Datum::from(base)
        }
    }
}

unsafe extern "C" {
    /// `palloc0` and `palloc` without pgrx's per-call error guard (a sigsetjmp): it can
    /// only raise on out-of-memory, and the frames above hold nothing that
    /// needs dropping, exactly as for a C caller.
    #[link_name = "palloc0"]
    fn palloc0_unguarded(size: usize) -> *mut std::ffi::c_void;
    #[link_name = "palloc"]
    fn palloc_unguarded(size: usize) -> *mut std::ffi::c_void;
}

/// The contents of a varlena datum (1- or 4-byte header).
///
/// # Safety
/// `d` is a valid, non-toasted varlena datum.
pub unsafe fn payload<'a>(d: Datum) -> &'a [u8] {
    unsafe {
        let v = d.cast_mut_ptr::<pg_sys::varlena>();
        std::slice::from_raw_parts(
            pgrx::varlena::vardata_any(v) as *const u8,
            pgrx::varlena::varsize_any_exhdr(v),
        )
    }
}

/// A varlena datum of this payload (4-byte header), palloc'd in the
/// current memory context.
pub fn varlena_datum(payload: &[u8]) -> Datum {
    // SAFETY: a fresh allocation, fully written.
    unsafe {
        let p = pg_sys::palloc(payload.len() + 4) as *mut u8;
        (p as *mut u32).write_unaligned(varsize_4b_word(payload.len() + 4));
        std::ptr::copy_nonoverlapping(payload.as_ptr(), p.add(4), payload.len());
        Datum::from(p)
    }
}

/// A palloc'd copy of a whole composite datum image.
pub fn copy_datum(image: &[u8]) -> Datum {
    // SAFETY: a fresh allocation of the image's length, fully written.
    unsafe {
        let p = palloc_unguarded(image.len()) as *mut u8;
        std::ptr::copy_nonoverlapping(image.as_ptr(), p, image.len());
        Datum::from(p)
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Bytes a varlena of this payload takes at data offset `at`, padding
/// included: short (1-byte header, unaligned) when it fits, else 4-aligned
/// with a 4-byte header — heap_fill_tuple's rule for packable types.
fn varlena_len(at: usize, payload: usize) -> usize {
    if payload < SHORT_MAX {
        payload + 1
    } else {
        align4(at) - at + 4 + payload
    }
}

fn push_int4(out: &mut Vec<u8>, v: i32) {
    out.resize(align4(out.len()), 0);
    out.extend_from_slice(&v.to_ne_bytes());
}

fn push_varlena(out: &mut Vec<u8>, payload: &[u8]) {
    let at = out.len();
    out.resize(at + varlena_len(at, payload.len()), 0);
    write_varlena(out, at, payload);
}

/// Writes a varlena at byte `at` of `out` (a data offset relative to a
/// 4-aligned origin) and returns the offset after it.
fn write_varlena(out: &mut [u8], at: usize, payload: &[u8]) -> usize {
    if payload.len() < SHORT_MAX {
        out[at] = varsize_1b_byte(payload.len() + 1);
        out[at + 1..at + 1 + payload.len()].copy_from_slice(payload);
        at + 1 + payload.len()
    } else {
        let at = align4(at);
        out[at..at + 4].copy_from_slice(&varsize_4b_word(payload.len() + 4).to_ne_bytes());
        out[at + 4..at + 4 + payload.len()].copy_from_slice(payload);
        at + 4 + payload.len()
    }
}

/// SET_VARSIZE_1B's header byte.
fn varsize_1b_byte(len: usize) -> u8 {
    if cfg!(target_endian = "little") {
        ((len as u8) << 1) | 0x01
    } else {
        (len as u8) | 0x80
    }
}

/// SET_VARSIZE_4B's header word.
pub fn varsize_4b_word(len: usize) -> u32 {
    if cfg!(target_endian = "little") {
        (len as u32) << 2
    } else {
        len as u32 & 0x3FFF_FFFF
    }
}
