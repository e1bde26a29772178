//! Resource accounting per device, and the tasks waiting for resources.

use crate::device::{DeviceId, DeviceInfo, Resources};
use crate::task::TaskNode;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
};

struct Table {
    /// What each device has free now.
    free: Vec<Resources>,
    /// Ready tasks that found no room, in the order they became ready.
    blocked: VecDeque<Arc<TaskNode>>,
}

/// One lock for all devices: only tasks that reserve something take it.
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
        if try_reserve(&mut table.free, &node) {
            Some(node)
        } else {
            table.blocked.push_back(node);
            None
        }
    }

    /// Returns `request` to `device` and hands back the blocked tasks that
    /// now fit, in order.
    pub fn release(&self, device: DeviceId, request: Resources) -> Vec<Arc<TaskNode>> {
        let mut table = self.lock();
        let free = &mut table.free[device.0 as usize];
        free.vcus += request.vcus;
        free.memory += request.memory;
        let mut ready = Vec::new();
        let Table { free, blocked } = &mut *table;
        blocked.retain(|node| {
            if try_reserve(free, node) {
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

/// Reserves the node's request on the first placement device with room
/// (a resumed task: on its own device), recording the device in the
/// node's work.
fn try_reserve(free: &mut [Resources], node: &Arc<TaskNode>) -> bool {
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
    for device in candidates {
        let room = &mut free[device.0 as usize];
        if room.vcus >= work.request.vcus && room.memory >= work.request.memory {
            room.vcus -= work.request.vcus;
            room.memory -= work.request.memory;
            work.device = *device;
            work.holds_resources = true;
            return true;
        }
    }
    false
}
