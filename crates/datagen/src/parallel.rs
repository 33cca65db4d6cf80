//! A work queue over scoped threads: how the data generators use several cores.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Runs `work(0)`, …, `work(count - 1)` on `threads` scoped threads and returns the results in
/// index order.
///
/// Each thread takes the next index when it is free, because items differ in cost (utterances
/// by length, Pathfinder images by retries). Results depend only on the index, never on which
/// thread ran it, as long as `work` does. The first failure stops new work. The error returned
/// is that of the lowest index that failed, so one bad item among many is reported the same
/// way on every run. A panic in `work` is passed on as it was.
pub fn parallel_map<R: Send, E: Send>(
    count: usize,
    threads: usize,
    work: impl Fn(usize) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done = Vec::new();
        loop {
            if failed.load(Ordering::Relaxed) {
                return (done, None);
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                return (done, None);
            }
            match work(i) {
                Ok(result) => done.push((i, result)),
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return (done, Some((i, e)));
                }
            }
        }
    };
    let finished: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.clamp(1, count.max(1))).map(|_| scope.spawn(worker)).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut slots: Vec<Option<R>> = (0..count).map(|_| None).collect();
    let mut first_failure: Option<(usize, E)> = None;
    for (done, failure) in finished {
        for (i, result) in done {
            slots[i] = Some(result);
        }
        if let Some((i, e)) = failure
            && first_failure.as_ref().is_none_or(|(j, _)| i < *j)
        {
            first_failure = Some((i, e));
        }
    }
    match first_failure {
        Some((_, e)) => Err(e),
        None => Ok(slots.into_iter().map(|r| r.expect("every index below count was taken")).collect()),
    }
}

/// [`parallel_map`] for work that cannot fail.
pub fn parallel_collect<R: Send>(count: usize, threads: usize, work: impl Fn(usize) -> R + Sync) -> Vec<R> {
    parallel_map(count, threads, |i| Ok::<_, std::convert::Infallible>(work(i))).unwrap_or_else(|never| match never {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_come_back_in_index_order_whatever_each_item_costs() {
        for threads in [1, 2, 3, 64] {
            let squares = parallel_map(40, threads, |i| {
                // Early items are slow, so later ones finish first on other threads.
                std::thread::sleep(Duration::from_micros(((40 - i) * 50) as u64));
                Ok::<_, ()>(i * i)
            })
            .unwrap();
            assert_eq!(squares, (0..40).map(|i| i * i).collect::<Vec<_>>(), "{threads} threads");
        }
        assert_eq!(parallel_map(0, 2, Ok::<usize, ()>).unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn the_lowest_failing_index_is_reported_and_work_stops() {
        let ran = AtomicUsize::new(0);
        let result = parallel_map(10_000, 2, |i| {
            ran.fetch_add(1, Ordering::Relaxed);
            if i == 0 {
                // The other thread meets its own failure first.
                std::thread::sleep(Duration::from_millis(20));
            }
            if i % 7 == 0 { Err(i) } else { Ok(i) }
        });
        assert_eq!(result, Err(0));
        assert!(ran.load(Ordering::Relaxed) < 100, "{} items ran after a failure", ran.load(Ordering::Relaxed));
    }

    #[test]
    #[should_panic(expected = "item 5 is bad")]
    fn a_panic_in_the_work_is_passed_on_with_its_message() {
        let _ = parallel_map(10, 2, |i| if i == 5 { panic!("item 5 is bad") } else { Ok::<_, ()>(i) });
    }
}
