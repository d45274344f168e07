//! A day of flow records pushed into [`FlowBatch`]es in the order a collector receives them.
//!
//! Records come in runs from one router with one receive time, as they arrive in datagrams; the routers
//! take turns by their weights, and receive times follow the day's curve over the window ([`Clock`]).

use weir_flow::FlowBatch;

use super::clock::Clock;
use crate::synthetic::catalogue::{ROUTERS, SERVICES};
use crate::synthetic::flows::Flows;
use crate::synthetic::random::Weighted;
use crate::synthetic::world::World;

/// Records per datagram, as routers fill them.
const RUN: (u64, u64) = (10, 30);

/// The run of records being generated: one router, one receive time.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    router: usize,
    time: u64,
    left: u64,
}

/// Makes `total` flows, batch by batch.
#[derive(Debug)]
pub struct Generator {
    flows: Flows,
    clock: Clock,
    routers: Weighted,
    run: Run,
    total: u64,
    made: u64,
}

impl Generator {
    /// `total` flows of the network of `seed`, received over `secs` seconds from `start_ns`.
    pub fn new(seed: u64, total: u64, start_ns: u64, secs: u64) -> Generator {
        Generator {
            flows: Flows::new(World::new(seed, &ROUTERS, SERVICES), seed),
            clock: Clock::new(start_ns, secs, total),
            routers: Weighted::new(ROUTERS.iter().map(|r| r.weight)),
            run: Run::default(),
            total,
            made: 0,
        }
    }

    /// The network the flows cross.
    pub fn world(&self) -> &World {
        self.flows.world()
    }

    /// Flows made so far.
    pub fn made(&self) -> u64 {
        self.made
    }

    /// Clears `batch` and fills it with the next flows, at most `rows`; how many (0 when all are made).
    pub fn fill(&mut self, batch: &mut FlowBatch, rows: usize) -> usize {
        self.flows.clear(batch);
        let mut pushed = 0;
        while pushed < rows && self.made < self.total {
            if self.run.left == 0 {
                let rng = self.flows.rng();
                let left = rng.range(RUN.0, RUN.1).min(self.total - self.made);
                let router = self.routers.sample(rng);
                let at = self.made as f64 + rng.unit();
                self.run = Run {
                    router,
                    time: self.clock.at(at),
                    left,
                };
            }
            let record = self.flows.flow(batch, self.run.router, self.run.time);
            batch.push(&record);
            self.run.left -= 1;
            self.made += 1;
            pushed += 1;
        }
        pushed
    }
}
