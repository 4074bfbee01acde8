/**
 * What the kernel holds: programs, maps and links by id (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID,
 * BPF_OBJ_GET_INFO_BY_FD), as `bpftool prog/map/link list` shows them, and a program's translated
 * (xlated) instructions.
 */
import { decode } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { mapTypeName } from "../object/map-types.js";
import { PROGRAM_TYPE_IDS } from "../object/section-types.js";
import {
  BPF_LINK_GET_NEXT_ID,
  BPF_MAP_GET_FD_BY_ID,
  BPF_MAP_GET_NEXT_ID,
  BPF_PROG_GET_FD_BY_ID,
  BPF_PROG_GET_NEXT_ID,
  nextIds,
  objInfo,
} from "./bpf.js";
import { linuxSys, type NativeMemory, type Sys } from "./sys.js";

const BPF_LINK_GET_FD_BY_ID = 30;
const PROG_TYPE_NAMES = new Map(Object.entries(PROGRAM_TYPE_IDS).map(([name, id]) => [id, name]));

export interface ProgramInfo {
  id: number;
  type: string;
  name: string;
  tag: string;
  xlatedBytes: number;
  jitedBytes: number;
  loadTime: bigint;
  uid: number;
  mapIds: number[];
  btfId: number;
}

export interface MapInfo {
  id: number;
  type: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

export interface LinkInfo {
  id: number;
  type: number;
  progId: number;
}

/** An fd for the kernel object with an id (BPF_{PROG,MAP,LINK}_GET_FD_BY_ID as `cmd`). */
export function fdById(sys: Sys, cmd: number, id: number, what: string): number {
  const attr = new Uint8Array(144);
  new DataView(attr.buffer).setUint32(0, id, true);
  return sys.bpf(cmd, attr, `${what} ${id}`);
}

function cstr(bytes: Uint8Array, at: number, len: number): string {
  const raw = bytes.subarray(at, at + len);
  const end = raw.indexOf(0);
  return new TextDecoder().decode(raw.subarray(0, end < 0 ? len : end));
}

/** Runs fn with an fd for the object, closing it afterwards; undefined when the object vanished meanwhile. */
function withFd<T>(sys: Sys, cmd: number, id: number, what: string, fn: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = fdById(sys, cmd, id, what);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    return fn(fd);
  } finally {
    sys.close(fd);
  }
}

function programInfo(sys: Sys, fd: number): ProgramInfo {
  const first = objInfo(sys, fd, 256).info;
  const v = new DataView(first.buffer);
  const nrMaps = v.getUint32(52, true);
  const mapIds: number[] = [];
  if (nrMaps > 0) {
    const { extra } = objInfo(
      sys,
      fd,
      256,
      (info, mem) => {
        info.setUint32(52, nrMaps, true);
        info.setBigUint64(56, (mem[0] as NativeMemory).address, true);
      },
      [nrMaps * 4],
    );
    const ids = new DataView((extra[0] as Uint8Array).buffer);
    for (let k = 0; k < nrMaps; k++) mapIds.push(ids.getUint32(k * 4, true));
  }
  const tag = Array.from(first.subarray(8, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  const type = v.getUint32(0, true);
  return {
    id: v.getUint32(4, true),
    type: PROG_TYPE_NAMES.get(type) ?? `type_${type}`,
    name: cstr(first, 64, 16),
    tag,
    xlatedBytes: v.getUint32(20, true),
    jitedBytes: v.getUint32(16, true),
    loadTime: v.getBigUint64(40, true),
    uid: v.getUint32(48, true),
    mapIds,
    btfId: v.getUint32(128, true),
  };
}

export function listPrograms(sys: Sys = linuxSys()): ProgramInfo[] {
  return nextIds(sys, BPF_PROG_GET_NEXT_ID, "BPF_PROG_GET_NEXT_ID").flatMap(
    (id) => withFd(sys, BPF_PROG_GET_FD_BY_ID, id, "BPF_PROG_GET_FD_BY_ID", (fd) => programInfo(sys, fd)) ?? [],
  );
}

export function programById(id: number, sys: Sys = linuxSys()): ProgramInfo | undefined {
  return withFd(sys, BPF_PROG_GET_FD_BY_ID, id, "BPF_PROG_GET_FD_BY_ID", (fd) => programInfo(sys, fd));
}

/** The program's instructions as the verifier rewrote them (bpftool prog dump xlated). */
export function xlatedInstructions(id: number, sys: Sys = linuxSys()): Instruction[] | undefined {
  return withFd(sys, BPF_PROG_GET_FD_BY_ID, id, "BPF_PROG_GET_FD_BY_ID", (fd) => {
    const len = new DataView(objInfo(sys, fd, 256).info.buffer).getUint32(20, true);
    const { extra } = objInfo(
      sys,
      fd,
      256,
      (info, mem) => {
        info.setUint32(20, len, true);
        info.setBigUint64(32, (mem[0] as NativeMemory).address, true);
      },
      [len],
    );
    return decode(extra[0] as Uint8Array);
  });
}

/** What the kernel says about the map behind `fd`. */
export function mapInfo(sys: Sys, fd: number): MapInfo {
  const b = objInfo(sys, fd, 128).info;
  const v = new DataView(b.buffer);
  return {
    id: v.getUint32(4, true),
    type: mapTypeName(v.getUint32(0, true)),
    name: cstr(b, 24, 16),
    keySize: v.getUint32(8, true),
    valueSize: v.getUint32(12, true),
    maxEntries: v.getUint32(16, true),
    flags: v.getUint32(20, true),
  };
}

export function listMaps(sys: Sys = linuxSys()): MapInfo[] {
  return nextIds(sys, BPF_MAP_GET_NEXT_ID, "BPF_MAP_GET_NEXT_ID").flatMap(
    (id) => withFd(sys, BPF_MAP_GET_FD_BY_ID, id, "BPF_MAP_GET_FD_BY_ID", (fd) => mapInfo(sys, fd)) ?? [],
  );
}

export function listLinks(sys: Sys = linuxSys()): LinkInfo[] {
  return nextIds(sys, BPF_LINK_GET_NEXT_ID, "BPF_LINK_GET_NEXT_ID").flatMap(
    (id) =>
      withFd(sys, BPF_LINK_GET_FD_BY_ID, id, "BPF_LINK_GET_FD_BY_ID", (fd) => {
        const v = new DataView(objInfo(sys, fd, 64).info.buffer);
        return { id: v.getUint32(4, true), type: v.getUint32(0, true), progId: v.getUint32(8, true) };
      }) ?? [],
  );
}
