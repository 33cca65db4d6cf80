//! Splitting a batch across threads. The sequences of a batch are independent; only the
//! parameter gradients are summed over them. So the fused recurrences hand each thread a
//! contiguous range of sequences for the **whole** sequence (one spawn per call, not per step)
//! and add the threads' parameter gradients at the end.

use std::ops::Range;
use std::thread;

/// Below this many elements (`rows·T·H`) a part is not worth a thread of its own.
const MIN_ELEMENTS_PER_PART: usize = 1 << 15;

/// Contiguous ranges of `rows` (sizes differing by at most one), as many as there are cores,
/// but none with less than [`MIN_ELEMENTS_PER_PART`] of `elements_per_row`-sized work.
pub fn split_rows(rows: usize, elements_per_row: usize) -> Vec<Range<usize>> {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let by_work = (rows * elements_per_row) / MIN_ELEMENTS_PER_PART;
    let parts = cores.min(by_work).min(rows).max(1);
    let (base, extra) = (rows / parts, rows % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let range = start..start + len;
            start += len;
            range
        })
        .collect()
}

/// `work(part)` for every part, the first on the calling thread and the rest on scoped
/// threads; the results in order. A panic in any part is passed on.
pub fn map_parts<T: Send, R: Send>(parts: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    if parts.len() <= 1 {
        return parts.into_iter().map(&work).collect();
    }
    let work = &work;
    thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next();
        let handles: Vec<_> = parts.map(|part| scope.spawn(move || work(part))).collect();
        let mut results: Vec<R> = first.into_iter().map(work).collect();
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

/// Where one part's rows lie in time-major `[K, T, B, W]` buffers (K series of T steps of a
/// batch of B rows of width W).
#[derive(Clone, Copy, Debug)]
pub struct PartRows {
    /// The part's first row in the batch.
    pub first: usize,
    /// The part's number of rows.
    pub count: usize,
    /// Rows B of the whole batch.
    pub batch: usize,
    /// Steps T.
    pub steps: usize,
}

impl PartRows {
    /// The part `rows` of a batch of `batch` rows over `steps` steps.
    pub fn new(rows: &Range<usize>, batch: usize, steps: usize) -> Self {
        Self { first: rows.start, count: rows.len(), batch, steps }
    }

    /// The part's `[count, width]` block of step t of series k.
    pub fn block<'a>(&self, of: &'a [f32], width: usize, k: usize, t: usize) -> &'a [f32] {
        let start = ((k * self.steps + t) * self.batch + self.first) * width;
        &of[start..start + self.count * width]
    }
}

/// Cuts `steps` consecutive rows of `[B, width]` (a time-major series) into each part's rows
/// of every step: `result[p][t]` is part p's `[b_p, width]` block of step t. The blocks are
/// disjoint, so each part can write its own on its own thread.
pub fn split_steps<'a>(series: &'a mut [f32], ranges: &[Range<usize>], width: usize) -> Vec<Vec<&'a mut [f32]>> {
    let batch = ranges.last().map_or(0, |r| r.end);
    let mut parts: Vec<Vec<&mut [f32]>> = ranges.iter().map(|_| Vec::new()).collect();
    if batch == 0 {
        return parts;
    }
    for step in series.chunks_mut(batch * width) {
        let mut rest = step;
        for (part, rows) in parts.iter_mut().zip(ranges) {
            let (block, tail) = rest.split_at_mut(rows.len() * width);
            part.push(block);
            rest = tail;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_blocks_are_each_parts_rows() {
        // 2 steps of a batch of 3 rows, width 2: values 0..12.
        let mut series: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let parts = split_steps(&mut series, &[0..2, 2..3], 2);
        assert_eq!(parts[0].len(), 2);
        assert_eq!(&*parts[0][1], &[6.0, 7.0, 8.0, 9.0]);
        assert_eq!(&*parts[1][0], &[4.0, 5.0]);
        assert_eq!(&*parts[1][1], &[10.0, 11.0]);
    }

    #[test]
    fn ranges_cover_the_rows_once_in_order() {
        for (rows, per_row) in [(1, 1), (7, 1 << 20), (256, 7056), (3, 10)] {
            let ranges = split_rows(rows, per_row);
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, rows);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start && !w[0].is_empty()));
        }
        assert_eq!(split_rows(3, 10).len(), 1, "too little work for a second thread");
        let sums = map_parts(vec![0..3, 3..5, 5..9], |r| r.sum::<usize>());
        assert_eq!(sums, vec![3, 7, 26]);
    }
}
