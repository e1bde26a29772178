//! The `device` dialect: devices (`#device.cpu`, `#device.gpu<i>`,
//! `#device.any_gpu`), their resources, and data movement between them.
//! See `docs/dialects/device.md`.

pub mod ops;
pub(crate) mod verify;

use crate::DialectError;
use melior::{ir::Attribute, Context};
use std::fmt;

/// A device, as placement and data-movement ops name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// The host CPU: every core, as one device.
    Cpu,
    /// One GPU, by ordinal.
    Gpu(u32),
    /// Any GPU; the mapper chooses.
    AnyGpu,
}

impl Device {
    /// The attribute naming this device, e.g. `#device.gpu<0 : i64>`.
    /// Fails only when the dialects are not loaded in `context`.
    pub fn attribute<'c>(&self, context: &'c Context) -> Result<Attribute<'c>, DialectError> {
        crate::builder::parse_attribute(context, "device attribute", &self.to_string())
    }

    /// Reads a device attribute back; `None` for anything else.
    pub fn from_attribute(attribute: Attribute) -> Option<Device> {
        Self::parse(&attribute.to_string())
    }

    /// Parses the printed form of a device attribute.
    pub fn parse(text: &str) -> Option<Device> {
        match text {
            "#device.cpu" => Some(Device::Cpu),
            "#device.any_gpu" => Some(Device::AnyGpu),
            _ => {
                let inner = text.strip_prefix("#device.gpu<")?.strip_suffix('>')?;
                let number = inner.split(':').next()?.trim();
                number.parse::<u32>().ok().map(Device::Gpu)
            }
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "#device.cpu"),
            Device::Gpu(index) => write!(f, "#device.gpu<{index} : i64>"),
            Device::AnyGpu => write!(f, "#device.any_gpu"),
        }
    }
}
