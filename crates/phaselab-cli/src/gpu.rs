//! Finding a GPU for `--device wgpu`. Container GPU machines often lack a Vulkan loader or keep
//! the vendor's driver manifest (ICD) outside the loader's standard folders (the NVIDIA container
//! runtime mounts it under /usr/local/nvidia). When no adapter comes up from the loader's own
//! search, each known manifest is tried in turn through VK_DRIVER_FILES; the error names every
//! place tried.

use anyhow::{bail, Result};
use burn::prelude::Device;
use std::path::{Path, PathBuf};

/// Folders of Vulkan driver manifests, the NVIDIA container runtime's first.
const ICD_DIRS: [&str; 5] = [
    "/usr/local/nvidia/share/vulkan/icd.d",
    "/usr/local/nvidia/icd.d",
    "/etc/vulkan/icd.d",
    "/usr/local/share/vulkan/icd.d",
    "/usr/share/vulkan/icd.d",
];

/// The NVIDIA EGL vendor file its Vulkan driver wants beside it (glvnd).
const NVIDIA_EGL: &str = "/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json";

/// Manifests to try: those VK_DRIVER_FILES / VK_ICD_FILENAMES name (files or folders, ':'-separated),
/// then every *.json in the known folders.
fn candidates() -> Vec<PathBuf> {
    let vars: Vec<std::ffi::OsString> = ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"]
        .iter()
        .filter_map(std::env::var_os)
        .collect();
    candidates_in(&vars, &ICD_DIRS)
}

/// `candidates` over given variable values and folders: existing files, each once, in order.
fn candidates_in(vars: &[std::ffi::OsString], dirs: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut add = |p: PathBuf| {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&p)
                .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
                .unwrap_or_default();
            files.retain(|f| f.extension().is_some_and(|x| x == "json"));
            files.sort();
            out.extend(files);
        } else if p.is_file() {
            out.push(p);
        }
    };
    for v in vars {
        std::env::split_paths(v).for_each(&mut add);
    }
    dirs.iter().map(PathBuf::from).for_each(add);
    let mut seen = Vec::new();
    out.retain(|p| {
        let new = !seen.contains(p);
        seen.push(p.clone());
        new
    });
    out
}

/// Whether the Vulkan loader library can be loaded at all.
fn has_vulkan_loader() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: dlopen/dlclose of a C library name; the handle is closed at once.
        unsafe {
            let h = libc::dlopen(
                c"libvulkan.so.1".as_ptr(),
                libc::RTLD_NOW | libc::RTLD_LOCAL,
            );
            if h.is_null() {
                return false;
            }
            libc::dlclose(h);
        }
    }
    true
}

fn use_manifest(icd: &Path) {
    // SAFETY (edition 2021: safe): set before the runtime's instance is created; the CLI reads
    // these variables nowhere else.
    std::env::set_var("VK_DRIVER_FILES", icd);
    std::env::set_var("VK_ICD_FILENAMES", icd);
    if icd.starts_with("/usr/local/nvidia") && Path::new(NVIDIA_EGL).is_file() {
        std::env::set_var("__EGL_VENDOR_LIBRARY_FILENAMES", NVIDIA_EGL);
    }
}

/// The wgpu device, initialised once per process (a second initialisation is an error in burn, and
/// `compare` asks once per model).
pub fn wgpu_device() -> Result<Device> {
    static DEVICE: std::sync::Mutex<Option<Device>> = std::sync::Mutex::new(None);
    let mut cached = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = cached.as_ref() {
        return Ok(d.clone());
    }
    let d = find_wgpu_device()?;
    *cached = Some(d.clone());
    Ok(d)
}

/// A wgpu device, searching the known driver manifests when the loader finds none itself. Where
/// the NVIDIA runtime mounts its manifest and no VK_* variable names one, that manifest is used
/// from the start, so that a software driver in the standard folders (Mesa's lavapipe) does not
/// win over the GPU.
fn find_wgpu_device() -> Result<Device> {
    let nvidia = Path::new(ICD_DIRS[0]).join("nvidia_icd.json");
    let named = ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !named && nvidia.is_file() {
        use_manifest(&nvidia);
    }
    let first = match Device::wgpu_options().init() {
        Ok(d) => return Ok(d),
        Err(e) => e.to_string(),
    };
    let mut tried = vec![format!("the Vulkan loader's own search ({first})")];
    if !has_vulkan_loader() {
        tried.push("libvulkan.so.1: not found (install libvulkan1, or put the loader on LD_LIBRARY_PATH; tools/gpu/bench.sh unpacks it)".into());
    } else {
        for icd in candidates() {
            use_manifest(&icd);
            match Device::wgpu_options().init() {
                Ok(d) => {
                    eprintln!("wgpu: using the Vulkan driver {}", icd.display());
                    return Ok(d);
                }
                Err(e) => tried.push(format!("{} ({e})", icd.display())),
            }
        }
        let dirs: Vec<&str> = ICD_DIRS
            .iter()
            .copied()
            .filter(|d| !Path::new(d).is_dir())
            .collect();
        if !dirs.is_empty() {
            tried.push(format!("no such folders: {}", dirs.join(", ")));
        }
    }
    bail!(
        "--device wgpu: no usable GPU adapter. Tried: {}. Vulkan needs libvulkan1 and the vendor's driver (on a CPU-only machine: Mesa's mesa-vulkan-drivers); VK_DRIVER_FILES names a driver manifest directly",
        tried.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_searched_where_the_variables_and_folders_say() {
        let d = std::env::temp_dir().join(format!("phaselab-icd-{}", std::process::id()));
        let (nv, std_dir) = (d.join("nvidia/icd.d"), d.join("share/icd.d"));
        std::fs::create_dir_all(&nv).unwrap();
        std::fs::create_dir_all(&std_dir).unwrap();
        for f in [
            nv.join("nvidia_icd.json"),
            std_dir.join("lvp_icd.json"),
            std_dir.join("b.json"),
        ] {
            std::fs::write(f, "{}").unwrap();
        }
        std::fs::write(std_dir.join("notes.txt"), "").unwrap();
        let named = std_dir.join("lvp_icd.json");
        let var = std::env::join_paths([named.clone(), d.join("missing.json")]).unwrap();
        let (a, b) = (nv.to_str().unwrap(), std_dir.to_str().unwrap());
        let got = candidates_in(&[var], &["/nonexistent-phaselab", a, b]);
        // The named file first, then each folder's manifests in order, each once.
        assert_eq!(
            got,
            vec![named, nv.join("nvidia_icd.json"), std_dir.join("b.json")]
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
