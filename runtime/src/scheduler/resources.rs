//! Resource accounting per device, the tasks waiting for resources, and
//! the load that picks among the devices of a placement.

use crate::device::{DeviceId, DeviceInfo, Resources};
use crate::task::{TaskNode, Work};
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
};

struct Table {
    /// What each device has free now.
    free: Vec<Resources>,
    /// Ready tasks that found no room, in the order they became ready.
    blocked: VecDeque<Arc<TaskNode>>,
    /// Tasks mapped to each device through this table and not finished
    /// or suspended: the load a choice between devices balances.
    load: Vec<usize>,
}

/// One lock for all devices: only tasks that reserve something, or that
/// may run on more than one device, take it.
pub(crate) struct ResourceTable(Mutex<Table>);

impl ResourceTable {
    pub fn new(devices: &[DeviceInfo]) -> Self {
        Self(Mutex::new(Table {
            free: devices
                .iter()
                .map(|d| Resources {
                    vcus: d.vcus,
                    memory: d.memory,
                })
                .collect(),
            blocked: VecDeque::new(),
            load: vec![0; devices.len()],
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves room for `node` on the first device of its placement that
    /// has it and returns the node to be queued; or keeps it until room
    /// frees up.
    pub fn reserve_or_block(&self, node: Arc<TaskNode>) -> Option<Arc<TaskNode>> {
        let mut table = self.lock();
        let Table { free, load, .. } = &mut *table;
        if try_reserve(free, load, &node) {
            Some(node)
        } else {
            table.blocked.push_back(node);
            None
        }
    }

    /// Maps a task that reserves nothing but may run on several devices
    /// to the least loaded one (the first of those, on a tie; a resumed
    /// task to its own device), counting it there until it finishes or
    /// suspends.
    pub fn map_unreserved(&self, work: &mut Work) {
        let mut table = self.lock();
        let device = if work.resumed {
            work.device
        } else {
            least_loaded(&table.load, work.placement.iter().copied()).unwrap_or(work.device)
        };
        table.load[device.0 as usize] += 1;
        work.device = device;
        work.holds_resources = true;
    }

    /// Returns `request` to `device` (and the task's share of its load)
    /// and hands back the blocked tasks that now fit, in order.
    pub fn release(&self, device: DeviceId, request: Resources) -> Vec<Arc<TaskNode>> {
        let mut table = self.lock();
        let load = &mut table.load[device.0 as usize];
        *load = load.saturating_sub(1);
        if request.is_zero() {
            return Vec::new(); // nothing freed that a blocked task needs
        }
        let free = &mut table.free[device.0 as usize];
        free.vcus += request.vcus;
        free.memory += request.memory;
        let mut ready = Vec::new();
        let Table {
            free,
            blocked,
            load,
        } = &mut *table;
        blocked.retain(|node| {
            if try_reserve(free, load, node) {
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
fn least_loaded(load: &[usize], devices: impl Iterator<Item = DeviceId>) -> Option<DeviceId> {
    let mut best: Option<DeviceId> = None;
    for device in devices {
        if best.is_none_or(|b| load[device.0 as usize] < load[b.0 as usize]) {
            best = Some(device);
        }
    }
    best
}

/// Reserves the node's request on the least loaded placement device with
/// room (a resumed task: on its own device), recording the device in the
/// node's work.
fn try_reserve(free: &mut [Resources], load: &mut [usize], node: &Arc<TaskNode>) -> bool {
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
    load[device.0 as usize] += 1;
    work.device = device;
    work.holds_resources = true;
    true
}
