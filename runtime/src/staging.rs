//! Which host memory a GPU call stages on the device.
//!
//! A host array is copied to device memory for the call and, where the
//! call may write it, back. Arrays whose bytes overlap (the very same
//! array passed twice, or views that interleave: `c[::2]` and `c[1::2]`)
//! must share one copy: with a copy each, the copy back of one would write
//! the other's elements as they were before the call over its results.

/// The bytes of one host array, `first..end` (addresses), and whether the
/// call's results are copied back into them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostSpan {
    pub first: usize,
    pub end: usize,
    pub copy_back: bool,
}

/// One range of host memory staged as one device buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagedRange {
    pub host: usize,
    pub bytes: usize,
    /// Whether any array in it is copied back (then the whole range is).
    pub copy_back: bool,
}

/// The ranges to stage for `spans` (None: an array already on a device),
/// overlapping spans merged into one, and the range of each span. An empty
/// span overlaps nothing and gets a range of its own.
pub fn staged_ranges(spans: &[Option<HostSpan>]) -> (Vec<StagedRange>, Vec<Option<usize>>) {
    let mut order: Vec<usize> = (0..spans.len()).filter(|&i| spans[i].is_some()).collect();
    order.sort_by_key(|&i| spans[i].map(|s| s.first));
    let mut ranges: Vec<StagedRange> = Vec::new();
    let mut range_of = vec![None; spans.len()];
    // The last non-empty range, which later spans may overlap.
    let mut open: Option<usize> = None;
    for index in order {
        let Some(span) = spans[index] else { continue };
        let end_of = |r: &StagedRange| r.host + r.bytes;
        match open {
            Some(range) if span.first < end_of(&ranges[range]) && span.end > span.first => {
                let end = end_of(&ranges[range]).max(span.end);
                ranges[range].bytes = end - ranges[range].host;
                ranges[range].copy_back |= span.copy_back;
                range_of[index] = Some(range);
            }
            _ => {
                ranges.push(StagedRange {
                    host: span.first,
                    bytes: span.end - span.first,
                    copy_back: span.copy_back,
                });
                range_of[index] = Some(ranges.len() - 1);
                if span.end > span.first {
                    open = Some(ranges.len() - 1);
                }
            }
        }
    }
    (ranges, range_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(first: usize, end: usize, copy_back: bool) -> Option<HostSpan> {
        Some(HostSpan {
            first,
            end,
            copy_back,
        })
    }

    #[test]
    fn interleaved_and_repeated_arrays_share_one_range() {
        // c[::2] and c[1::2] of 16 float64s: 0..120 and 8..128.
        let (ranges, of) = staged_ranges(&[span(0, 120, true), span(8, 128, true)]);
        assert_eq!(
            ranges,
            [StagedRange {
                host: 0,
                bytes: 128,
                copy_back: true
            }]
        );
        assert_eq!(of, [Some(0), Some(0)]);
        // The same array twice, written through the second only.
        let (ranges, of) = staged_ranges(&[span(64, 96, false), None, span(64, 96, true)]);
        assert_eq!(ranges.len(), 1);
        assert!(ranges[0].copy_back);
        assert_eq!(of, [Some(0), None, Some(0)]);
    }

    #[test]
    fn disjoint_touching_and_empty_spans_stay_apart() {
        let (ranges, of) = staged_ranges(&[
            span(100, 200, true),
            span(0, 100, false),   // touches, shares no byte
            span(150, 150, true),  // empty, inside the first
            span(190, 260, false), // overlaps the first, past the empty one
        ]);
        assert_eq!(
            ranges,
            [
                StagedRange {
                    host: 0,
                    bytes: 100,
                    copy_back: false
                },
                StagedRange {
                    host: 100,
                    bytes: 160,
                    copy_back: true
                },
                StagedRange {
                    host: 150,
                    bytes: 0,
                    copy_back: true
                },
            ]
        );
        assert_eq!(of, [Some(1), Some(0), Some(2), Some(1)]);
    }
}
