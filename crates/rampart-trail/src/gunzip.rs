//! Gzip decompression of a whole object in one call (libdeflate, the fastest decoder for data
//! already in memory), member after member: `cat a.json.gz b.json.gz` is one valid gzip file of
//! two members, and libdeflate's plain call would silently stop after the first.

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};
use std::ptr::NonNull;

/// A libdeflate decompressor, reused from object to object (its tables are allocated once).
pub struct Gunzip {
    d: NonNull<libdeflate_decompressor>,
}

// SAFETY: a libdeflate decompressor has no thread affinity; `&mut self` on every use keeps it
// to one thread at a time.
unsafe impl Send for Gunzip {}

impl Default for Gunzip {
    fn default() -> Self {
        Gunzip::new()
    }
}

impl Drop for Gunzip {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once, here.
        unsafe { libdeflate_free_decompressor(self.d.as_ptr()) }
    }
}

/// Why decompression stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The data is not valid gzip from this member on (truncated or corrupt).
    Damaged,
    /// The output would exceed the limit.
    TooLarge,
}

impl Gunzip {
    pub fn new() -> Gunzip {
        // SAFETY: plain allocation; NULL only when out of memory.
        let d = unsafe { libdeflate_alloc_decompressor() };
        Gunzip {
            d: NonNull::new(d).expect("libdeflate could not allocate a decompressor"),
        }
    }

    /// Decompresses every member of `data` into `out` (replacing its contents), at most `limit`
    /// bytes. `first_hint` is the expected size of the first member (its ISIZE trailer when the
    /// object is one member). Trailing zero bytes after the last member (padding) are ignored.
    /// On failure `out` holds the members before the one that failed.
    pub fn members(
        &mut self,
        data: &[u8],
        first_hint: usize,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), Stop> {
        out.clear();
        let mut pos = 0;
        let mut hint = first_hint.max(1024);
        while pos < data.len() {
            if data[pos..].iter().all(|&b| b == 0) {
                break;
            }
            let start = out.len();
            let mut room = hint.min(limit.saturating_sub(start)).max(1);
            loop {
                // decompress into spare capacity: zero-filling a buffer libdeflate is about to
                // overwrite would cost as much as a tenth of the decompression
                out.reserve(room);
                let (mut used_in, mut used_out) = (0usize, 0usize);
                let input = &data[pos..];
                let output = &mut out.spare_capacity_mut()[..room];
                // SAFETY: the pointers and lengths describe live, non-overlapping buffers
                // (`input` borrowed from `data`, `output` the spare capacity of `out`), and
                // libdeflate reads at most `input.len()` bytes and writes at most
                // `output.len()`, reading back only output it has written.
                let r = unsafe {
                    libdeflate_gzip_decompress_ex(
                        self.d.as_ptr(),
                        input.as_ptr().cast(),
                        input.len(),
                        output.as_mut_ptr().cast(),
                        output.len(),
                        &mut used_in,
                        &mut used_out,
                    )
                };
                if r == libdeflate_result_LIBDEFLATE_SUCCESS {
                    // SAFETY: libdeflate initialised the first `used_out` bytes of the spare
                    // capacity (`used_out <= room`, reserved above).
                    unsafe { out.set_len(start + used_out.min(room)) };
                    pos += used_in;
                    break;
                }
                if r == libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE {
                    if start + room >= limit {
                        return Err(Stop::TooLarge);
                    }
                    room = (room * 2).min(limit - start);
                    continue;
                }
                return Err(Stop::Damaged);
            }
            // later members: guess they are about as large as the input left suggests
            hint = (data.len() - pos).saturating_mul(8);
        }
        Ok(())
    }
}

/// `text` as one gzip member (tests).
#[cfg(test)]
pub(crate) fn gz(text: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text).unwrap();
    e.finish().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_is_read() {
        let mut g = Gunzip::new();
        let mut out = Vec::new();
        let mut data = gz(b"first ");
        data.extend(gz(b"second ".repeat(5000).as_slice()));
        data.extend(gz(b"first "));
        data.extend([0, 0, 0]);
        g.members(&data, 6, 1 << 20, &mut out).unwrap();
        let mut want = b"first ".to_vec();
        want.extend(b"second ".repeat(5000));
        want.extend(b"first ");
        assert_eq!(out, want);
        // damage in the third member keeps the first two
        let cut = data.len() - 12;
        assert_eq!(
            g.members(&data[..cut], 6, 1 << 20, &mut out),
            Err(Stop::Damaged)
        );
        assert_eq!(out.len(), 6 + 7 * 5000);
        // a limit
        assert_eq!(g.members(&data, 6, 1000, &mut out), Err(Stop::TooLarge));
        assert!(out.len() <= 1000);
    }
}
