#!/usr/bin/env bash
# Installs site-controller on a Debian-based gateway box (arm64 or x86-64) as a hardened systemd service.
# Usage: sudo deploy/install.sh [SITE_YAML]    (run from an unpacked release or a git checkout)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)
case "$arch" in amd64|arm64) ;; *) echo "install.sh: unsupported architecture $arch (amd64 or arm64)" >&2; exit 1;; esac
need_node=20
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt "$need_node" ]; then
  echo "install.sh: Node.js >= $need_node is required (Debian: apt-get install nodejs, or NodeSource 22 LTS)" >&2; exit 1
fi
if node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a===24 && b>=19 ? 0 : 1)'; then
  echo "install.sh: warning: Node $(node -v) needs better-sqlite3 built against Node 24.18 headers (see README); Node 22 LTS is recommended" >&2
fi
apt-get update -qq && apt-get install -y --no-install-recommends python3 make g++ sqlite3 >/dev/null
id site-controller >/dev/null 2>&1 || useradd --system --home /var/lib/site-controller --shell /usr/sbin/nologin --groups dialout site-controller
install -d -m 0755 /opt/site-controller
# Upgrade path: the previous release is kept as /opt/site-controller.previous for a quick roll-back.
if [ -d /opt/site-controller/dist ]; then rm -rf /opt/site-controller.previous; cp -a /opt/site-controller /opt/site-controller.previous; fi
cp -a "$src"/{package.json,package-lock.json,tsconfig.json,src,algorithms,drivers,config,test,deploy} /opt/site-controller/
(cd /opt/site-controller && npm ci --no-audit --no-fund && npm prune --omit=dev)
install -d -m 0750 -o root -g site-controller /etc/site-controller
if [ -n "${1:-}" ]; then install -m 0640 -o root -g site-controller "$1" /etc/site-controller/site.yaml; fi
[ -f /etc/site-controller/site.yaml ] || echo "install.sh: now write /etc/site-controller/site.yaml (see README, Configuration)"
if [ -f /etc/site-controller/site.yaml ]; then
  sudo -u site-controller node /opt/site-controller/dist/src/main.js check-config /etc/site-controller/site.yaml
fi
install -m 0644 "$src/deploy/site-controller.service" /etc/systemd/system/site-controller.service
systemctl daemon-reload
systemctl enable site-controller
echo "installed; start with: systemctl start site-controller; logs: journalctl -u site-controller -f"
