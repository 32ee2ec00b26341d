// systemd readiness and watchdog (Type=notify, WatchdogSec=): Node cannot send unix datagrams itself, so the
// notifications go through `systemd-notify` (unit has NotifyAccess=all). Does nothing outside systemd.
import { execFile } from 'node:child_process';

function notify(...args: string[]): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', args, () => undefined);
}

/** Tells systemd the service is ready and starts pinging the watchdog at half its interval from the event loop. */
export function systemdReady(): () => void {
  notify('--ready', `MAINPID=${process.pid}`);
  const usec = Number(process.env.WATCHDOG_USEC ?? 0);
  if (!process.env.NOTIFY_SOCKET || !usec) return () => undefined;
  const timer = setInterval(() => notify('WATCHDOG=1'), Math.max(1000, usec / 2000));
  timer.unref();
  return () => clearInterval(timer);
}
