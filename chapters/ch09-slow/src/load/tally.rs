//! One reading client's account of what it received: which lines from which sender, how late,
//! and everything that was not a whole line in its place.

use hdrhistogram::Histogram;

/// The longest latency the histogram records: an hour, in nanoseconds. Longer ones count as it.
const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

/// What one client received, line by line.
pub struct Tally {
    /// This client's number: lines from itself are unexpected (the server must not echo).
    me: u32,
    /// How many clients send, and how many lines each.
    clients: u32,
    lines: u64,
    /// Per sender, one bit per sequence number received (allocated at its first line).
    seen: Vec<Vec<u64>>,
    /// Per sender, how many different lines arrived.
    distinct: Vec<u64>,
    /// Per sender, the highest sequence number received so far.
    highest: Vec<Option<u64>>,
    /// The counts the report adds up.
    pub counts: Counts,
    /// Latency of every delivery, in nanoseconds.
    pub latency: Histogram<u64>,
    /// When the last delivery arrived, in nanoseconds since the run's epoch.
    pub last_delivery: u64,
}

/// Counts of what arrived, added up over every client for the report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Whole lines from another client, each counted once.
    pub deliveries: u64,
    /// Lines that arrived again.
    pub duplicated: u64,
    /// Lines that arrived after a later line from the same sender.
    pub out_of_order: u64,
    /// Lines that arrived cut short, mixed with another or otherwise unreadable.
    pub torn: u64,
    /// Whole lines that should not have come here: from ourselves, or numbered beyond the run.
    pub unexpected: u64,
    /// `error: ...` lines from the server.
    pub error_lines: u64,
}

impl Counts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &Counts) {
        self.deliveries += other.deliveries;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.torn += other.torn;
        self.unexpected += other.unexpected;
        self.error_lines += other.error_lines;
    }
}

/// A histogram for latencies from 1 ns to [`MAX_LATENCY_NS`], to 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("the bounds are valid constants")
}

impl Tally {
    /// An empty tally for client `me` of a run of `clients` clients sending `lines` lines each.
    pub fn new(me: u32, clients: u32, lines: u32) -> Tally {
        let senders = clients as usize;
        Tally {
            me,
            clients,
            lines: u64::from(lines),
            seen: vec![Vec::new(); senders],
            distinct: vec![0; senders],
            highest: vec![None; senders],
            counts: Counts::default(),
            latency: latency_histogram(),
            last_delivery: 0,
        }
    }

    /// Records line `seq` from `sender`, stamped `sent` and received at `now` (nanoseconds
    /// since the run's epoch): a delivery, a duplicate, or an unexpected line; and out of order
    /// when a later line from the same sender came first.
    pub fn record(&mut self, sender: u32, seq: u64, sent: u64, now: u64) {
        if sender >= self.clients || sender == self.me || seq >= self.lines {
            self.counts.unexpected += 1;
            return;
        }
        let s = sender as usize;
        let words = self.lines.div_ceil(64) as usize;
        let seen = &mut self.seen[s];
        if seen.is_empty() {
            seen.resize(words, 0);
        }
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if seen[word] & bit != 0 {
            self.counts.duplicated += 1;
            return;
        }
        seen[word] |= bit;
        self.distinct[s] += 1;
        self.counts.deliveries += 1;
        match self.highest[s] {
            Some(highest) if seq < highest => self.counts.out_of_order += 1,
            _ => self.highest[s] = Some(seq),
        }
        self.last_delivery = self.last_delivery.max(now);
        let latency = now.saturating_sub(sent).clamp(1, MAX_LATENCY_NS);
        // Within the bounds just checked, recording cannot fail.
        let _ = self.latency.record(latency);
    }

    /// Lines sent to this client that never arrived, given how many each client sent.
    pub fn lost(&self, sent: &[u64]) -> u64 {
        sent.iter()
            .zip(&self.distinct)
            .enumerate()
            .filter(|&(sender, _)| sender != self.me as usize)
            .map(|(_, (&sent, &arrived))| sent.saturating_sub(arrived))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mishap_is_counted_once() {
        // Client 0 of 3, each sending 4 lines.
        let mut tally = Tally::new(0, 3, 4);
        for seq in [0, 2, 1, 1, 3] {
            tally.record(1, seq, 0, 10);
        }
        tally.record(2, 0, 0, 10);
        tally.record(0, 0, 0, 10); // our own line, echoed
        tally.record(2, 9, 0, 10); // beyond the run
        let counts = tally.counts;
        assert_eq!(counts.deliveries, 5);
        assert_eq!(counts.duplicated, 1);
        assert_eq!(counts.out_of_order, 1);
        assert_eq!(counts.unexpected, 2);
        assert_eq!(tally.lost(&[4, 4, 4]), 3);
        assert_eq!(tally.latency.len(), 5);
    }
}
