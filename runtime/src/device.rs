//! Devices and the resources a task reserves on them.

use thiserror::Error;

/// What kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Cpu,
    Gpu,
}

/// A device, by its position in the runtime's device table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub u16);

/// Compute capacity is counted in millionths of a device: `vcus = 0.5` is
/// 500_000 units, a whole device 1_000_000.
pub const VCU_UNITS: u32 = 1_000_000;

/// One device the runtime schedules onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub kind: DeviceKind,
    /// The ordinal among devices of its kind (`gpu(1)` is 1).
    pub ordinal: u32,
    /// Compute capacity in [`VCU_UNITS`].
    pub vcus: u32,
    /// Memory capacity in bytes.
    pub memory: u64,
}

impl DeviceInfo {
    /// The host CPU with `memory` bytes.
    pub fn cpu(memory: u64) -> Self {
        Self {
            kind: DeviceKind::Cpu,
            ordinal: 0,
            vcus: VCU_UNITS,
            memory,
        }
    }
}

/// What a task holds while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    /// Compute, in [`VCU_UNITS`].
    pub vcus: u32,
    /// Memory, in bytes.
    pub memory: u64,
}

impl Resources {
    pub fn is_zero(&self) -> bool {
        self.vcus == 0 && self.memory == 0
    }

    /// Whether a device with `capacity` could ever hold this request.
    pub fn fits_in(&self, capacity: &DeviceInfo) -> bool {
        self.vcus <= capacity.vcus && self.memory <= capacity.memory
    }
}

/// A resource request that cannot be stated.
#[derive(Debug, Error, PartialEq)]
pub enum ResourceError {
    #[error("vcus must be a number in [0, 1], got {0}")]
    Vcus(f64),
}

/// Converts a fraction of a device to units, rounding down (so that k
/// tasks of `1/k` fit, as the fraction says), but not below one unit for
/// a fraction above 0 (which would be no limit at all). The rounding down
/// forgives the float error of fractions such as 0.57 (569999.99...).
pub fn vcus_to_units(vcus: f64) -> Result<u32, ResourceError> {
    if !(0.0..=1.0).contains(&vcus) {
        return Err(ResourceError::Vcus(vcus));
    }
    let units = (vcus * VCU_UNITS as f64 + 1e-6).floor() as u32;
    Ok(if vcus > 0.0 { units.max(1) } else { 0 })
}

/// The physical memory of this machine in bytes (from /proc/meminfo), or
/// a conservative 1 GiB where it cannot be read.
pub fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(1 << 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_vcus() {
        assert_eq!(vcus_to_units(0.5), Ok(500_000));
        assert_eq!(vcus_to_units(0.57), Ok(570_000));
        // k tasks of 1/k fit in one device.
        for k in 1..=1000u32 {
            let units = vcus_to_units(1.0 / k as f64).unwrap();
            assert!(k * units <= VCU_UNITS, "1/{k}");
            assert!((k + 1) * units > VCU_UNITS || k > 999, "1/{k}");
        }
        assert_eq!(vcus_to_units(1e-9), Ok(1));
        assert_eq!(vcus_to_units(0.0), Ok(0));
        assert_eq!(vcus_to_units(1.0), Ok(VCU_UNITS));
        assert!(vcus_to_units(-0.1).is_err());
        assert!(vcus_to_units(1.5).is_err());
        assert!(vcus_to_units(f64::NAN).is_err());
    }

    #[test]
    fn reads_host_memory() {
        assert!(host_memory() >= 1 << 20);
    }
}
