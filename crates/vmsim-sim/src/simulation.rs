//! A simulation: a machine, its kernel and a trace replayed through them, with the first
//! accesses narrated on request. The replay loop is the one every face of vmsim runs.
use crate::{with_machine, AnyMachine, KernelChoice, RunReport, SimError};
use vmsim_core::config::MachineConfig;
use vmsim_core::event::{Event, Recorder};
use vmsim_core::kernel::Kernel;
use vmsim_core::machine::Machine;
use vmsim_trace::{AddressCheck, Record, TraceReader};

/// Records decoded per batch: 24 KiB of records, which stay in a 32 KiB L1 data cache between
/// decoding and replay (8192 records, 192 KiB, went out to L2: twice the L1 misses on the
/// built-in trace, measured with cachegrind).
const BATCH: usize = 1024;

/// How much of a trace to replay, and how much of it to narrate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Stop after this many records (`None`: the whole trace).
    pub limit: Option<u64>,
    /// Hand the events of the first this-many records to [`Watch::explained`].
    pub explain: u64,
}

/// What a caller sees of a replay while it runs. Both calls come rarely (once per narrated
/// record, once per batch), never per replayed access.
pub trait Watch {
    /// Record number `index` (from 1) was narrated: these are its events.
    fn explained(&mut self, _index: u64, _events: Vec<Event>) {}
    /// `records` records have been replayed so far.
    fn progress(&mut self, _records: u64) {}
    /// Whether the replay should end now, before its next batch (a Python caller's Ctrl-C, say).
    /// Asked once per batch, never per access.
    fn stop(&mut self) -> bool {
        false
    }
}

/// Where a replay's records come from: a trace being decoded, or records already in memory.
trait Batches {
    /// Clears `buf` and fills it with the next records; 0 at the end.
    fn next_batch(&mut self, buf: &mut Vec<Record>) -> Result<usize, SimError>;
}

impl Batches for TraceReader {
    fn next_batch(&mut self, buf: &mut Vec<Record>) -> Result<usize, SimError> {
        Ok(self.read_batch(buf)?)
    }
}

/// Records held in memory (a Python caller's array), checked as a trace's are.
struct InMemory<'a> {
    rest: &'a [Record],
    check: AddressCheck,
    done: u64,
}

impl Batches for InMemory<'_> {
    fn next_batch(&mut self, buf: &mut Vec<Record>) -> Result<usize, SimError> {
        let (now, rest) = self.rest.split_at(self.rest.len().min(BATCH));
        buf.clear();
        for r in now {
            self.done += 1;
            self.check
                .check(r)
                .map_err(|e| SimError::Record(self.done, e))?;
            buf.push(*r);
        }
        self.rest = rest;
        Ok(buf.len())
    }
}

/// Watching nothing.
impl Watch for () {}

/// A machine with its kernel, described by a configuration, replaying traces. A clone is a
/// snapshot that goes on independently: step back to it and replay something else.
#[derive(Clone)]
pub struct Simulation {
    config: MachineConfig,
    machine: AnyMachine,
}

impl Simulation {
    /// The machine `config` describes, with the kernel `kernel` chooses.
    pub fn new(config: MachineConfig, kernel: KernelChoice) -> Result<Simulation, SimError> {
        let machine = AnyMachine::new(&config, kernel)?;
        Ok(Simulation { config, machine })
    }

    /// The machine's description.
    pub fn config(&self) -> &MachineConfig {
        &self.config
    }

    /// The machine.
    pub fn machine(&self) -> &AnyMachine {
        &self.machine
    }

    /// The machine, to change before or between replays (start processes in a layout, say).
    pub fn machine_mut(&mut self) -> &mut AnyMachine {
        &mut self.machine
    }

    /// The addresses this machine can be handed: canonical for its paging mode on x86-64,
    /// within its width on a teaching machine.
    pub fn address_check(&self) -> AddressCheck {
        let g = self.machine.geometry();
        if g.is_x86() {
            AddressCheck::Canonical(g.va_bits())
        } else {
            AddressCheck::Width(g.va_bits())
        }
    }

    /// Replays `reader` (its addresses checked against this machine) as `options` say, telling
    /// `watch` what it narrates and how far it got. Returns the records replayed.
    pub fn replay(
        &mut self,
        reader: TraceReader,
        options: ReplayOptions,
        watch: &mut impl Watch,
    ) -> Result<u64, SimError> {
        let reader = reader.with_address_check(self.address_check());
        with_machine!(&mut self.machine, m => replay_on(m, reader, options, watch))
    }

    /// Replays `records` as [`Simulation::replay`] replays a trace: each is checked against
    /// this machine (the error names it by its number, from 1) before it runs.
    pub fn replay_records(
        &mut self,
        records: &[Record],
        options: ReplayOptions,
        watch: &mut impl Watch,
    ) -> Result<u64, SimError> {
        let source = InMemory {
            rest: records,
            check: self.address_check(),
            done: 0,
        };
        with_machine!(&mut self.machine, m => replay_on(m, source, options, watch))
    }

    /// What the machine has done so far, for the trace named `trace`.
    pub fn report(&self, trace: &str) -> RunReport {
        self.machine.report(&self.config, trace)
    }
}

/// The replay loop, monomorphized per kernel. The narrated prefix and the limit are cut out of
/// each batch, so the records in between replay in a loop that tests nothing per record.
fn replay_on<K: Kernel>(
    machine: &mut Machine<K>,
    mut reader: impl Batches,
    options: ReplayOptions,
    watch: &mut impl Watch,
) -> Result<u64, SimError> {
    let mut buf: Vec<Record> = Vec::with_capacity(BATCH);
    let mut seen = 0u64;
    let limit = options.limit.unwrap_or(u64::MAX);
    while seen < limit && !watch.stop() {
        let n = reader.next_batch(&mut buf)?;
        if n == 0 {
            break;
        }
        let batch = &buf[..n.min(at_most(limit - seen))];
        let narrated = batch
            .len()
            .min(at_most(options.explain.saturating_sub(seen)));
        for r in &batch[..narrated] {
            seen += 1;
            let mut rec = Recorder::default();
            machine.access(r.cpu, r.pid, r.addr, r.kind, r.size, &mut rec)?;
            watch.explained(seen, rec.events);
        }
        for r in &batch[narrated..] {
            machine.replay_access(r.cpu, r.pid, r.addr, r.kind, r.size, &mut ())?;
        }
        seen += (batch.len() - narrated) as u64;
        watch.progress(seen);
    }
    Ok(seen)
}

/// A record count as a slice length, saturating where `usize` is narrower than `u64`.
fn at_most(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
