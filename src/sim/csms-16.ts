// What a simulated CSMS answers to an OCPP 1.6J charge point's CALL (valid per the OCA 1.6 schemas). Unlike 2.0.1, the
// CSMS assigns the transaction id: StartTransaction.conf carries a new integer, unique per CSMS (per ledger).

/** The 1.6 actions a charge point sends to the CSMS (Core + Smart Charging + Firmware + security whitepaper). */
export const OCPP16_STATION_ACTIONS = [
  'Authorize',
  'BootNotification',
  'DataTransfer',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'Heartbeat',
  'LogStatusNotification',
  'MeterValues',
  'SecurityEventNotification',
  'SignCertificate',
  'SignedFirmwareStatusNotification',
  'StartTransaction',
  'StatusNotification',
  'StopTransaction',
] as const;

const accepted = { status: 'Accepted' } as const;

export class Csms16Answers {
  private lastTransactionId: number;

  /** `firstTransactionId`: where this CSMS's integer ids start (a real CSMS's ids are large and never reused). */
  constructor(firstTransactionId = 1000) {
    this.lastTransactionId = firstTransactionId - 1;
  }

  answer(action: string, payload: Record<string, unknown>, now: number): Record<string, unknown> {
    const currentTime = new Date(now).toISOString();
    switch (action) {
      case 'BootNotification':
        return { status: 'Accepted', currentTime, interval: 300 };
      case 'Heartbeat':
        return { currentTime };
      case 'Authorize':
        return { idTagInfo: accepted };
      case 'StartTransaction':
        return { transactionId: ++this.lastTransactionId, idTagInfo: accepted };
      case 'StopTransaction':
        return payload.idTag !== undefined ? { idTagInfo: accepted } : {};
      case 'DataTransfer':
        return { status: 'UnknownVendorId' };
      case 'SignCertificate':
        return { status: 'Accepted' };
      default:
        // StatusNotification, MeterValues, DiagnosticsStatusNotification, FirmwareStatusNotification, security events…
        return {};
    }
  }
}
