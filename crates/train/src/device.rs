//! Picking the compute device. Devices are always created explicitly: with wgpu compiled in,
//! Burn's `Device::default()` would pick it even on a machine without a GPU.

use anyhow::{Result, bail};

#[cfg(not(any(feature = "flex", feature = "ndarray", feature = "wgpu")))]
compile_error!("enable at least one backend feature: flex (default), ndarray or wgpu");
use burn::prelude::Device;

/// A backend compiled into this binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    /// Flex, the pure-Rust CPU backend (default without wgpu).
    Flex,
    /// NdArray (deprecated in Burn 0.22; feature `ndarray`).
    NdArray,
    /// wgpu: Vulkan, Metal or DX12 (feature `wgpu`); the default when compiled in.
    Wgpu,
}

impl DeviceChoice {
    /// Parses a device name, refusing one this binary was built without.
    pub fn parse(name: &str) -> Result<Self> {
        let choice = match name {
            "flex" | "cpu" => DeviceChoice::Flex,
            "ndarray" => DeviceChoice::NdArray,
            "wgpu" | "gpu" => DeviceChoice::Wgpu,
            other => bail!("unknown device {other:?}; expected one of {}", Self::compiled_in().join(", ")),
        };
        if !Self::compiled_in().contains(&choice.name()) {
            bail!(
                "device {name:?} is not compiled into this binary (rebuild with `--features {}`); available: {}",
                choice.name(),
                Self::compiled_in().join(", ")
            );
        }
        Ok(choice)
    }

    /// The default: the GPU when compiled in, else Flex.
    pub fn default_choice() -> Self {
        if cfg!(feature = "wgpu") {
            DeviceChoice::Wgpu
        } else if cfg!(feature = "flex") {
            DeviceChoice::Flex
        } else {
            DeviceChoice::NdArray
        }
    }

    /// A CPU device for work whose speed does not matter (import, conversions): Flex when
    /// compiled in.
    pub fn host() -> Self {
        if cfg!(feature = "flex") {
            DeviceChoice::Flex
        } else if cfg!(feature = "ndarray") {
            DeviceChoice::NdArray
        } else {
            DeviceChoice::Wgpu
        }
    }

    /// Resolves the command line's choice, then the config's, then the default.
    pub fn resolve(cli: Option<&str>, config: Option<&str>) -> Result<Self> {
        match cli.or(config) {
            Some(name) => Self::parse(name),
            None => Ok(Self::default_choice()),
        }
    }

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            DeviceChoice::Flex => "flex",
            DeviceChoice::NdArray => "ndarray",
            DeviceChoice::Wgpu => "wgpu",
        }
    }

    /// Names of the backends compiled in.
    pub fn compiled_in() -> Vec<&'static str> {
        let mut names = Vec::new();
        if cfg!(feature = "flex") {
            names.push("flex");
        }
        if cfg!(feature = "ndarray") {
            names.push("ndarray");
        }
        if cfg!(feature = "wgpu") {
            names.push("wgpu");
        }
        names
    }

    /// The plain (inference) device.
    // NdArray is deprecated in Burn 0.22 (removed in 0.23); the feature exists for comparison.
    #[allow(deprecated)]
    pub fn device(self) -> Device {
        match self {
            #[cfg(feature = "flex")]
            DeviceChoice::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            DeviceChoice::NdArray => Device::ndarray(),
            #[cfg(feature = "wgpu")]
            DeviceChoice::Wgpu => Device::wgpu(burn::prelude::DeviceKind::DefaultDevice),
            #[allow(unreachable_patterns)]
            other => unreachable!("{} is not compiled in; parse() refuses it", other.name()),
        }
    }

    /// The training device: the plain one with autodiff.
    pub fn autodiff_device(self) -> Device {
        self.device().autodiff()
    }
}
