// The controller's identity as an OCPP 2.0.1 charging station without EVSEs (Part 1 §8.3).
import type { IdentityProtocol } from './identity-protocol.js';
import { installHandlers } from './station-handlers.js';

export const ocpp201Identity: IdentityProtocol = {
  subprotocol: 'ocpp2.0.1',
  bootNotification: (reason, c) => ({
    reason,
    chargingStation: {
      model: c.model,
      vendorName: c.vendor,
      firmwareVersion: c.firmwareVersion,
      ...(c.serialNumber ? { serialNumber: c.serialNumber } : {}),
    },
  }),
  installHandlers,
  reportsExternalLimits: true,
};
