#!/usr/bin/env bash
# Mesa's software Vulkan driver (lavapipe) for burn's wgpu backend on a machine without a GPU.
# Mesa 25 from Debian's bookworm-backports: Debian 12's own Mesa 22.3.6 sums f64 wrongly on
# lavapipe (a rank-1 f64 sum of 131,072 ones gives 131,066), which the f64 tests would catch.
# Idempotent: does nothing when a lavapipe ICD of Mesa >= 25 is already installed.
set -euo pipefail
have_mesa() {
    local v
    v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
    [[ -n "$v" ]] && dpkg --compare-versions "$v" ge 25 && dpkg -s libvulkan1 >/dev/null 2>&1
}
if have_mesa; then
    echo "install_vulkan: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
src=/etc/apt/sources.list.d/objectives-backports.sources
if [[ ! -f "$src" ]]; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$codename" > "$src"
fi
apt-get update -qq
apt-get install -y -qq -t "$codename-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install_vulkan: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
