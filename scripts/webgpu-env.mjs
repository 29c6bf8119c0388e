// WebGPU on the CPU for the webgpu suite: Dawn (the `webgpu` npm package) on SwiftShader, the Vulkan
// driver Debian's `chromium` package ships (../shared/webgpu-on-cpu/README.md). Chromium's folder holds
// both its own libvulkan.so.1 and libvk_swiftshader.so; Dawn needs a runtime directory.
import { existsSync } from 'node:fs';

const CHROMIUM_LIBRARIES = '/usr/lib/chromium';
const SWIFTSHADER_ICD = `${CHROMIUM_LIBRARIES}/vk_swiftshader_icd.json`;

/** The environment that gives Dawn a SwiftShader adapter, or null when chromium is not installed. */
export function swiftShaderEnvironment(env = process.env) {
  if (!existsSync(SWIFTSHADER_ICD)) return null;
  const libraryPath = [CHROMIUM_LIBRARIES, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return {
    ...env,
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    LD_LIBRARY_PATH: libraryPath,
    XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR ?? '/tmp',
    TSFORMER_WEBGPU_SUITE: '1',
  };
}
