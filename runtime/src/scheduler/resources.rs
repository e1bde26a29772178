//! Resource accounting per device, the tasks waiting for resources, and
//! the load that picks among the devices of a placement.

use crate::device::{DeviceId, DeviceInfo, Resources};
use crate::task::{TaskNode, Work};
use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

struct Table {
    /// What each device has free now.
    free: Vec<Resources>,
    /// Ready tasks that found no room, in the order they became ready.
    blocked: VecDeque<Arc<TaskNode>>,
}

/// One lock for all devices, taken only by tasks that reserve something;
/// and the load of each device: the tasks mapped to it and not finished
/// or suspended, which a choice between devices balances (counted without
/// the lock: a heuristic may read a count a moment old).
pub(crate) struct ResourceTable {
    table: Mutex<Table>,
    load: Vec<AtomicUsize>,
    /// Whether there is a choice to balance (more than one device): with
    /// one, tasks that reserve nothing touch nothing shared here.
    balancing: bool,
}

impl ResourceTable {
    pub fn new(devices: &[DeviceInfo]) -> Self {
        Self {
            table: Mutex::new(Table {
                free: devices
                    .iter()
                    .map(|d| Resources {
                        vcus: d.vcus,
                        memory: d.memory,
                    })
                    .collect(),
                blocked: VecDeque::new(),
            }),
            load: devices.iter().map(|_| AtomicUsize::new(0)).collect(),
            balancing: devices.len() > 1,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves room for `node` on the least loaded device of its
    /// placement that has it and returns the node to be queued; or keeps
    /// it until room frees up.
    pub fn reserve_or_block(&self, node: Arc<TaskNode>) -> Option<Arc<TaskNode>> {
        let mut table = self.lock();
        if try_reserve(&mut table.free, &self.load, &node) {
            Some(node)
        } else {
            table.blocked.push_back(node);
            None
        }
    }

    /// Maps a task that reserves nothing to the least loaded device of its
    /// placement (the first of those, on a tie; a resumed task to its own
    /// device), counting it there until it finishes or suspends.
    pub fn map_unreserved(&self, work: &mut Work) {
        let device = match work.placement.as_slice() {
            _ if work.resumed => work.device,
            [only] => *only,
            several => least_loaded(&self.load, several.iter().copied()).unwrap_or(work.device),
        };
        work.device = device;
        if self.balancing {
            self.load[device.0 as usize].fetch_add(1, Ordering::Relaxed);
            work.holds_resources = true;
        }
    }

    /// Returns `request` to `device` (and the task's share of its load)
    /// and hands back the blocked tasks that now fit, in order.
    pub fn release(&self, device: DeviceId, request: Resources) -> Vec<Arc<TaskNode>> {
        self.load[device.0 as usize].fetch_sub(1, Ordering::Relaxed);
        if request.is_zero() {
            return Vec::new(); // nothing freed that a blocked task needs
        }
        let mut table = self.lock();
        let free = &mut table.free[device.0 as usize];
        free.vcus += request.vcus;
        free.memory += request.memory;
        let mut ready = Vec::new();
        let Table { free, blocked } = &mut *table;
        blocked.retain(|node| {
            if try_reserve(free, &self.load, node) {
                ready.push(node.clone());
                false
            } else {
                true
            }
        });
        ready
    }

    /// Takes every blocked task (at shutdown).
    pub fn drain_blocked(&self) -> Vec<Arc<TaskNode>> {
        self.lock().blocked.drain(..).collect()
    }
}

/// The least loaded of `devices`, the first of those on a tie.
fn least_loaded(load: &[AtomicUsize], devices: impl Iterator<Item = DeviceId>) -> Option<DeviceId> {
    let mut best: Option<(DeviceId, usize)> = None;
    for device in devices {
        let here = load[device.0 as usize].load(Ordering::Relaxed);
        if best.is_none_or(|(_, least)| here < least) {
            best = Some((device, here));
        }
    }
    best.map(|(device, _)| device)
}

/// Reserves the node's request on the least loaded placement device with
/// room (a resumed task: on its own device), recording the device in the
/// node's work.
fn try_reserve(free: &mut [Resources], load: &[AtomicUsize], node: &Arc<TaskNode>) -> bool {
    // SAFETY: ready nodes belong to whoever holds them; the resource table
    // holds this one (under its lock) until it hands it to a queue.
    let Some(work) = (unsafe { node.work() }).as_mut() else {
        return false;
    };
    // A task resumed after an await stays on the device it started on:
    // its body holds that device's stream and queued work.
    let resumed = [work.device];
    let candidates: &[DeviceId] = if work.resumed {
        &resumed
    } else {
        &work.placement
    };
    let request = work.request;
    let fits = |device: &DeviceId| {
        let room = &free[device.0 as usize];
        room.vcus >= request.vcus && room.memory >= request.memory
    };
    let Some(device) = least_loaded(load, candidates.iter().copied().filter(fits)) else {
        return false;
    };
    let room = &mut free[device.0 as usize];
    room.vcus -= request.vcus;
    room.memory -= request.memory;
    load[device.0 as usize].fetch_add(1, Ordering::Relaxed);
    work.device = device;
    work.holds_resources = true;
    true
}
