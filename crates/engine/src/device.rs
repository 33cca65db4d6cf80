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
    /// wgpu: Vulkan, Metal or DX12 (feature `wgpu`); the default when compiled in and the
    /// machine has a hardware GPU.
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

    /// The default: wgpu when it is compiled in and this machine has a hardware GPU, else Flex
    /// (else NdArray).
    ///
    /// A software rasterizer (Mesa's lavapipe or llvmpipe, Microsoft's WARP) does not count as
    /// a GPU. It runs our kernels correctly but tens of times slower than Flex runs the same
    /// model (sine LHetA: 120 ms a step on lavapipe, 4 ms on Flex), so choosing it by default
    /// would quietly turn an hour on a CPU machine into days. `--device wgpu` still selects it;
    /// the tests do, to check the GPU code on machines without a GPU.
    pub fn default_choice() -> Self {
        let cpu = if cfg!(feature = "flex") { DeviceChoice::Flex } else { DeviceChoice::NdArray };
        #[cfg(feature = "wgpu")]
        {
            if !cfg!(any(feature = "flex", feature = "ndarray")) {
                return DeviceChoice::Wgpu;
            }
            match wgpu_hardware_adapter() {
                Ok(_) => return DeviceChoice::Wgpu,
                Err(why) => {
                    static SAID: std::sync::Once = std::sync::Once::new();
                    SAID.call_once(|| {
                        eprintln!("device: {}, because wgpu {why}; `--device wgpu` uses it anyway", cpu.name())
                    });
                }
            }
        }
        cpu
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

/// The name of the first hardware GPU wgpu finds on Vulkan, Metal or DX12 (wgpu's primary APIs,
/// the ones our kernels are tested on), or why there is none
/// ("found only the software adapter llvmpipe (LLVM 15.0.7, 256 bits)", "found no adapter").
/// Probed once per process: enumerating adapters loads the drivers, which takes a moment.
#[cfg(feature = "wgpu")]
pub fn wgpu_hardware_adapter() -> Result<String, String> {
    use cubecl::wgpu::wgpu;
    static PROBE: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    PROBE
        .get_or_init(|| {
            let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
                backends: wgpu::Backends::PRIMARY,
                ..wgpu::InstanceDescriptor::new_without_display_handle()
            });
            let adapters: Vec<wgpu::AdapterInfo> =
                cubecl::future::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
                    .iter()
                    .map(wgpu::Adapter::get_info)
                    .collect();
            if let Some(gpu) = adapters.iter().find(|a| a.device_type != wgpu::DeviceType::Cpu) {
                return Ok(format!("{} ({:?})", gpu.name, gpu.backend));
            }
            match adapters.first() {
                Some(software) => Err(format!("found only the software adapter {}", software.name)),
                None => Err("found no adapter".to_string()),
            }
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A software rasterizer is never the default; a hardware GPU is. On a machine with only Mesa's
    /// lavapipe, as CI's, the default comes out as Flex.
    #[cfg(all(feature = "wgpu", feature = "flex"))]
    #[test]
    fn the_default_is_wgpu_only_with_a_hardware_gpu() {
        let probe = wgpu_hardware_adapter();
        match &probe {
            Ok(_) => assert_eq!(DeviceChoice::default_choice(), DeviceChoice::Wgpu),
            Err(why) => {
                assert!(why.starts_with("found"), "{why}");
                assert_eq!(DeviceChoice::default_choice(), DeviceChoice::Flex);
            }
        }
        if std::env::var_os("CI").is_some() {
            // CI installs lavapipe at least, so the probe must find an adapter of some kind.
            assert!(probe.as_ref().map_or_else(|why| why.contains("software adapter"), |_| true), "{probe:?}");
        }
        assert_eq!(DeviceChoice::resolve(Some("wgpu"), None).unwrap(), DeviceChoice::Wgpu);
        assert_eq!(DeviceChoice::resolve(None, Some("wgpu")).unwrap(), DeviceChoice::Wgpu);
    }
}
