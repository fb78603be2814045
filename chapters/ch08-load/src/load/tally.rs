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
        // TODO(ch08): Account for one whole line, exactly once. A line from another client of
        // this run, numbered below the run's line count, is a delivery the first time it
        // arrives and a duplicate after that; a delivery that comes after a later line from
        // the same sender is also out of order; anything else is unexpected. Each delivery's
        // latency goes into the histogram, and `last_delivery` keeps the latest arrival time.
        // The private fields above are there for you. Book: Counting every line.
        let _ = (sender, seq, sent, now, &mut self.seen, &mut self.distinct);
        let _ = (&mut self.highest, self.me, self.clients, self.lines);
        todo!("ch08: count one received line (book: Counting every line)")
    }

    /// Lines sent to this client that never arrived, given how many each client sent.
    pub fn lost(&self, sent: &[u64]) -> u64 {
        // TODO(ch08): The lines other clients sent that never arrived here: for each other
        // sender, how many it sent (`sent`, by sender) minus the different lines that arrived
        // from it. Book: Counting every line.
        let _ = sent;
        todo!("ch08: count the lines that never arrived (book: Counting every line)")
    }
}
