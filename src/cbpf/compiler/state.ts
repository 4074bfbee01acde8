/**
 * Code-generator state: the link-layer type being compiled for, the offsets of each header (constant part
 * plus, for variable-length headers, a scratch register holding the variable part), the scratch-register
 * allocator, and the error type. Offsets and their initial values per link type follow libpcap 1.10.
 */

import { TsbpfError } from "../../errors.js";
import * as C from "../insn.js";
import type { NameDb } from "./names.js";

/** An error in a filter expression, with libpcap's own wording (tcpdump prints it after "tcpdump: "). */
export class FilterError extends TsbpfError {
  constructor(
    message: string,
    /** The expression being compiled. */
    readonly expression: string,
  ) {
    super("EFILTER", message);
  }
}

/** Thrown by the generator; the compiler entry point attaches the expression. */
export class GenError extends Error {}

export function bpfError(message: string): never {
  throw new GenError(message);
}

export const OFFSET_NOT_SET = 0xffffffff;

export const DLT = {
  NULL: 0,
  EN10MB: 1,
  IEEE802: 6,
  ARCNET: 7,
  SLIP: 8,
  PPP: 9,
  FDDI: 10,
  ATM_RFC1483: 11,
  RAW: 12,
  SLIP_BSDOS: 15,
  PPP_BSDOS: 16,
  ATM_CLIP: 19,
  PPP_SERIAL: 50,
  PPP_ETHER: 51,
  C_HDLC: 104,
  IEEE802_11: 105,
  FRELAY: 107,
  LOOP: 108,
  ENC: 109,
  LINUX_SLL: 113,
  LTALK: 114,
  PFLOG: 117,
  PRISM_HEADER: 119,
  IP_OVER_FC: 122,
  SUNATM: 123,
  IEEE802_11_RADIO: 127,
  ARCNET_LINUX: 129,
  MTP2_WITH_PHDR: 139,
  MTP2: 140,
  IEEE802_11_RADIO_AVS: 163,
  PPP_PPPD: 166,
  PPI: 192,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** The 802.11 link types (with or without a radio header before the 802.11 one). */
export const is80211 = (dlt: number): boolean =>
  dlt === DLT.IEEE802_11 || dlt === DLT.PRISM_HEADER || dlt === DLT.IEEE802_11_RADIO_AVS || dlt === DLT.IEEE802_11_RADIO || dlt === DLT.PPI;

/** Link-type names as tcpdump's -y takes them (DLT_ prefix dropped), and LINKTYPE_ values in capture files. */
export const LINKTYPE_NAMES: Record<string, number> = {
  NULL: DLT.NULL,
  EN10MB: DLT.EN10MB,
  IEEE802: DLT.IEEE802,
  SLIP: DLT.SLIP,
  PPP: DLT.PPP,
  FDDI: DLT.FDDI,
  RAW: DLT.RAW,
  C_HDLC: DLT.C_HDLC,
  IEEE802_11: DLT.IEEE802_11,
  LOOP: DLT.LOOP,
  LINUX_SLL: DLT.LINUX_SLL,
  PFLOG: DLT.PFLOG,
  SUNATM: DLT.SUNATM,
  IEEE802_11_RADIO: DLT.IEEE802_11_RADIO,
  PRISM_HEADER: DLT.PRISM_HEADER,
  IEEE802_11_RADIO_AVS: DLT.IEEE802_11_RADIO_AVS,
  PPI: DLT.PPI,
  MTP2: DLT.MTP2,
  IPV4: DLT.IPV4,
  IPV6: DLT.IPV6,
  LINUX_SLL2: DLT.LINUX_SLL2,
};

/** Capture-file LINKTYPE_ value → DLT_ value (they differ only for a few old types). */
export function linktypeToDlt(linktype: number): number {
  if (linktype === 101) return DLT.RAW;
  return linktype;
}

/** pcap_datalink_val_to_description's names (libpcap's dlt_choices). */
const DLT_DESCRIPTIONS: Record<number, string> = {
  [DLT.NULL]: "BSD loopback",
  [DLT.EN10MB]: "Ethernet",
  [DLT.IEEE802]: "Token ring",
  [DLT.ARCNET]: "BSD ARCNET",
  [DLT.SLIP]: "SLIP",
  [DLT.PPP]: "PPP",
  [DLT.FDDI]: "FDDI",
  [DLT.ATM_RFC1483]: "RFC 1483 LLC-encapsulated ATM",
  [DLT.RAW]: "Raw IP",
  [DLT.SLIP_BSDOS]: "BSD/OS SLIP",
  [DLT.PPP_BSDOS]: "BSD/OS PPP",
  [DLT.ATM_CLIP]: "Linux Classical IP over ATM",
  [DLT.PPP_SERIAL]: "PPP over serial",
  [DLT.PPP_ETHER]: "PPPoE",
  [DLT.C_HDLC]: "Cisco HDLC",
  [DLT.IEEE802_11]: "802.11",
  [DLT.FRELAY]: "Frame Relay",
  [DLT.LOOP]: "OpenBSD loopback",
  [DLT.ENC]: "OpenBSD encapsulated IP",
  [DLT.LINUX_SLL]: "Linux cooked v1",
  [DLT.LTALK]: "Localtalk",
  [DLT.PFLOG]: "OpenBSD pflog file",
  [DLT.PRISM_HEADER]: "802.11 plus Prism header",
  [DLT.IP_OVER_FC]: "RFC 2625 IP-over-Fibre Channel",
  [DLT.SUNATM]: "Sun raw ATM",
  [DLT.IEEE802_11_RADIO]: "802.11 plus radiotap header",
  [DLT.ARCNET_LINUX]: "Linux ARCNET",
  [DLT.MTP2_WITH_PHDR]: "SS7 MTP2 with Pseudo-header",
  [DLT.MTP2]: "SS7 MTP2",
  [DLT.IEEE802_11_RADIO_AVS]: "802.11 plus AVS radio information header",
  [DLT.PPP_PPPD]: "PPP for pppd, with direction flag",
  [DLT.PPI]: "Per-Packet Information",
  [DLT.IPV4]: "Raw IPv4",
  [DLT.IPV6]: "Raw IPv6",
  [DLT.LINUX_SLL2]: "Linux cooked v2",
};

/** pcap_datalink_val_to_description_or_dlt. */
export function dltDescription(dlt: number): string {
  return DLT_DESCRIPTIONS[dlt] ?? `DLT ${dlt}`;
}

export interface AbsOffset {
  isVariable: boolean;
  constantPart: number;
  reg: number;
}

const off = (constantPart = 0): AbsOffset => ({ isVariable: false, constantPart, reg: -1 });

export interface CompileOptions {
  /** DLT_ value of the link layer. */
  linktype: number;
  snaplen: number;
  /** Network mask for `ip broadcast` (PCAP_NETMASK_UNKNOWN = 0xffffffff when not known). */
  netmask: number;
  /** Name resolution (hosts, networks, ethers, services, protocols). */
  names: NameDb;
  /** The capture file's byte order differs from this machine's (matters for DLT_NULL's host-order AF field). */
  swapped: boolean;
}

export class CompilerState {
  linktype: number;
  prevlinktype: number;
  outermostlinktype: number;
  readonly snaplen: number;
  readonly netmask: number;
  readonly names: NameDb;
  readonly swapped: boolean;
  noOptimize = false;
  labelStackDepth = 0;
  vlanStackDepth = 0;
  offLinkhdr = off();
  offPrevlinkhdr = off();
  offOutermostlinkhdr = off();
  offLinkpl = off();
  offLinktype = off();
  isAtm = false;
  isGeneve = false;
  isVlanVloffset = false;
  offVpi = OFFSET_NOT_SET;
  offVci = OFFSET_NOT_SET;
  offProto = OFFSET_NOT_SET;
  offPayload = OFFSET_NOT_SET;
  offLi = OFFSET_NOT_SET;
  offLiHsl = OFFSET_NOT_SET;
  offSio = OFFSET_NOT_SET;
  offOpc = OFFSET_NOT_SET;
  offDpc = OFFSET_NOT_SET;
  offSls = OFFSET_NOT_SET;
  offNl = 0;
  offNlNosnap = 0;
  private readonly regused = new Array<boolean>(C.MEMWORDS).fill(false);
  private curreg = 0;

  constructor(opts: CompileOptions) {
    this.snaplen = opts.snaplen;
    this.netmask = opts.netmask;
    this.names = opts.names;
    this.swapped = opts.swapped;
    this.linktype = this.prevlinktype = this.outermostlinktype = opts.linktype;
    this.initLinktype();
  }

  /** Next free scratch register, round-robin from the last one handed out (libpcap's alloc_reg). */
  allocReg(): number {
    for (let n = C.MEMWORDS; --n >= 0; ) {
      if (this.regused[this.curreg]) this.curreg = (this.curreg + 1) % C.MEMWORDS;
      else {
        this.regused[this.curreg] = true;
        return this.curreg;
      }
    }
    bpfError("too many registers needed to evaluate expression");
  }

  freeReg(n: number): void {
    this.regused[n] = false;
  }

  /** Replace the link-layer header in effect (PUSH_LINKHDR): for encapsulations such as LANE, PPPoE, Geneve. */
  pushLinkhdr(linktype: number, isVariable: boolean, constantPart: number, reg: number): void {
    this.prevlinktype = this.linktype;
    this.offPrevlinkhdr = { ...this.offLinkhdr };
    this.linktype = linktype;
    this.offLinkhdr = { isVariable, constantPart, reg };
    this.isGeneve = false;
  }

  private set(linktype: number, linkpl: number, nl: number, nlNosnap: number): void {
    this.offLinktype.constantPart = linktype;
    this.offLinkpl.constantPart = linkpl;
    this.offNl = nl;
    this.offNlNosnap = nlNosnap;
  }

  private initLinktype(): void {
    const N = OFFSET_NOT_SET;
    switch (this.linktype) {
      case DLT.ARCNET:
        this.set(2, 6, 0, 0);
        break;
      case DLT.ARCNET_LINUX:
        this.set(4, 8, 0, 0);
        break;
      case DLT.EN10MB:
        this.set(12, 14, 0, 3);
        break;
      case DLT.SLIP:
        this.set(N, 16, 0, 0);
        break;
      case DLT.SLIP_BSDOS:
        this.set(N, 24, 0, 0);
        break;
      case DLT.NULL:
      case DLT.LOOP:
        this.set(0, 4, 0, 0);
        break;
      case DLT.ENC:
        this.set(0, 12, 0, 0);
        break;
      case DLT.PPP:
      case DLT.PPP_PPPD:
      case DLT.C_HDLC:
      case DLT.PPP_SERIAL:
        this.set(2, 4, 0, 0);
        break;
      case DLT.PPP_ETHER:
        this.set(6, 8, 0, 0);
        break;
      case DLT.PPP_BSDOS:
        this.set(5, 24, 0, 0);
        break;
      case DLT.FDDI:
        this.set(13, 13, 8, 3);
        break;
      case DLT.IEEE802:
        this.set(14, 14, 8, 3);
        break;
      case DLT.PRISM_HEADER:
      case DLT.IEEE802_11_RADIO_AVS:
      case DLT.IEEE802_11_RADIO:
        this.offLinkhdr.isVariable = true;
        this.set(24, 0, 8, 3);
        this.offLinkpl.isVariable = true;
        break;
      case DLT.IEEE802_11:
        this.set(24, 0, 8, 3);
        this.offLinkpl.isVariable = true;
        break;
      case DLT.PPI:
        this.set(24, 0, 8, 3);
        this.offLinkpl.isVariable = true;
        this.offLinkhdr.isVariable = true;
        break;
      case DLT.ATM_RFC1483:
      case DLT.ATM_CLIP:
        this.set(0, 0, 8, 3);
        break;
      case DLT.SUNATM:
        this.isAtm = true;
        this.offVpi = 1;
        this.offVci = 2;
        this.offProto = 0;
        this.offPayload = 4;
        this.set(4, 4, 8, 3);
        break;
      case DLT.RAW:
      case DLT.IPV4:
      case DLT.IPV6:
        this.set(N, 0, 0, 0);
        break;
      case DLT.LINUX_SLL:
        this.set(14, 16, 0, 0);
        break;
      case DLT.LINUX_SLL2:
        this.set(0, 20, 0, 0);
        break;
      case DLT.LTALK:
        this.set(N, 0, 0, 0);
        break;
      case DLT.IP_OVER_FC:
        this.set(16, 16, 8, 3);
        break;
      case DLT.FRELAY:
        this.set(N, 0, 0, 0);
        break;
      case DLT.PFLOG:
        // The header's length is in its first byte, rounded up to 4: a variable payload offset.
        this.set(0, 0, 0, 0);
        this.offLinkpl.isVariable = true;
        break;
      case DLT.MTP2:
        this.offLi = 2;
        this.offLiHsl = 4;
        this.offSio = 3;
        this.offOpc = 4;
        this.offDpc = 4;
        this.offSls = 7;
        this.set(N, N, N, N);
        break;
      case DLT.MTP2_WITH_PHDR:
        this.offLi = 6;
        this.offLiHsl = 8;
        this.offSio = 7;
        this.offOpc = 8;
        this.offDpc = 8;
        this.offSls = 11;
        this.set(N, N, N, N);
        break;
      default:
        if (this.linktype >= 104 && this.linktype <= 300) this.set(N, N, N, N);
        else bpfError(`unknown data link type ${this.linktype}`);
    }
    this.offOutermostlinkhdr = { ...this.offLinkhdr };
    this.offPrevlinkhdr = { ...this.offLinkhdr };
  }
}
