/**
 * The BTF type model (https://docs.kernel.org/bpf/btf.html): one entry per type id, each kind with its own
 * fields. Names are resolved strings; raw fields (offsets, bit sizes) keep the encoding's meaning.
 */

export const BTF_KINDS = [
  "UNKN",
  "INT",
  "PTR",
  "ARRAY",
  "STRUCT",
  "UNION",
  "ENUM",
  "FWD",
  "TYPEDEF",
  "VOLATILE",
  "CONST",
  "RESTRICT",
  "FUNC",
  "FUNC_PROTO",
  "VAR",
  "DATASEC",
  "FLOAT",
  "DECL_TAG",
  "TYPE_TAG",
  "ENUM64",
] as const;
export type BtfKindName = (typeof BTF_KINDS)[number];

interface Common {
  readonly id: number;
  /** The name, or "" for anonymous types. */
  readonly name: string;
  /** Offset of the name in the string section (0 = anonymous). */
  readonly nameOff: number;
  readonly kflag: boolean;
}

export interface BtfMember {
  readonly name: string;
  readonly nameOff: number;
  readonly type: number;
  /** Bit offset within the struct. */
  readonly bitOffset: number;
  /** Bitfield size (0 when the member is not a bitfield). */
  readonly bitfieldSize: number;
}

export interface BtfEnumValue {
  readonly name: string;
  readonly nameOff: number;
  /** The value as encoded: signed when the enum's kflag says so. */
  readonly value: bigint;
}

export interface BtfParam {
  readonly name: string;
  readonly nameOff: number;
  readonly type: number;
}

export interface BtfSecinfo {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

export type BtfType =
  | (Common & {
      readonly kind: "INT";
      readonly size: number;
      readonly encoding: number;
      readonly bitsOffset: number;
      readonly bits: number;
    })
  | (Common & { readonly kind: "PTR" | "TYPEDEF" | "VOLATILE" | "CONST" | "RESTRICT" | "TYPE_TAG"; readonly type: number })
  | (Common & { readonly kind: "ARRAY"; readonly type: number; readonly indexType: number; readonly nelems: number })
  | (Common & { readonly kind: "STRUCT" | "UNION"; readonly size: number; readonly members: readonly BtfMember[] })
  | (Common & { readonly kind: "ENUM" | "ENUM64"; readonly size: number; readonly values: readonly BtfEnumValue[] })
  | (Common & { readonly kind: "FWD" })
  | (Common & { readonly kind: "FUNC"; readonly type: number; readonly linkage: number })
  | (Common & { readonly kind: "FUNC_PROTO"; readonly returnType: number; readonly params: readonly BtfParam[] })
  | (Common & { readonly kind: "VAR"; readonly type: number; readonly linkage: number })
  | (Common & { readonly kind: "DATASEC"; readonly size: number; readonly vars: readonly BtfSecinfo[] })
  | (Common & { readonly kind: "FLOAT"; readonly size: number })
  | (Common & { readonly kind: "DECL_TAG"; readonly type: number; readonly componentIdx: number });

/** BTF_INT_ENCODING bits. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;
