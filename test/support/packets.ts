// Test packets: Ethernet frames carrying IPv4 TCP and UDP (with correct checksums), IPv6 UDP, and ARP.

function checksum(bytes: Uint8Array, start: number, end: number, seed = 0): number {
  let sum = seed;
  for (let i = start; i < end; i += 2) sum += ((bytes[i] as number) << 8) | (i + 1 < end ? (bytes[i + 1] as number) : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

function ipv4(
  protocol: number,
  payload: Uint8Array,
  src: [number, number, number, number] = [10, 0, 0, 1],
  dst: [number, number, number, number] = [10, 0, 0, 2],
): Uint8Array {
  const frame = new Uint8Array(14 + 20 + payload.length);
  frame.set(MAC_B, 0);
  frame.set(MAC_A, 6);
  frame.set([0x08, 0x00], 12);
  const ip = frame.subarray(14);
  const v = new DataView(ip.buffer, ip.byteOffset);
  ip[0] = 0x45;
  v.setUint16(2, 20 + payload.length);
  v.setUint16(4, 0x1234);
  ip[8] = 64;
  ip[9] = protocol;
  ip.set(src, 12);
  ip.set(dst, 16);
  v.setUint16(10, checksum(ip, 0, 20));
  ip.set(payload, 20);
  // TCP/UDP checksum over the pseudo-header
  const pseudo =
    ((src[0] << 8) | src[1]) + ((src[2] << 8) | src[3]) + ((dst[0] << 8) | dst[1]) + ((dst[2] << 8) | dst[3]) + protocol + payload.length;
  const at = protocol === 6 ? 16 : 6;
  v.setUint16(20 + at, checksum(ip, 20, 20 + payload.length, pseudo));
  return frame;
}

export function tcpPacket(srcPort = 43210, dstPort = 80, flags = 0x02, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const tcp = new Uint8Array(20 + body.length);
  const v = new DataView(tcp.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint32(4, 1000);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  v.setUint16(14, 65535);
  tcp.set(body, 20);
  return ipv4(6, tcp);
}

export function udpPacket(srcPort = 5353, dstPort = 53, body: Uint8Array = new Uint8Array([1, 2, 3, 4])): Uint8Array {
  const udp = new Uint8Array(8 + body.length);
  const v = new DataView(udp.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, 8 + body.length);
  udp.set(body, 8);
  return ipv4(17, udp);
}

export function arpPacket(): Uint8Array {
  const frame = new Uint8Array(42);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  frame.set(MAC_A, 6);
  frame.set([0x08, 0x06], 12);
  frame.set([0, 1, 0x08, 0, 6, 4, 0, 1], 14); // Ethernet, IPv4, request
  frame.set(MAC_A, 22);
  frame.set([10, 0, 0, 1], 28);
  frame.set([10, 0, 0, 2], 38);
  return frame;
}

export function ipv6UdpPacket(): Uint8Array {
  const payload = new Uint8Array(8 + 4);
  const pv = new DataView(payload.buffer);
  pv.setUint16(0, 5353);
  pv.setUint16(2, 53);
  pv.setUint16(4, payload.length);
  const frame = new Uint8Array(14 + 40 + payload.length);
  frame.set(MAC_B, 0);
  frame.set(MAC_A, 6);
  frame.set([0x86, 0xdd], 12);
  const ip = frame.subarray(14);
  ip[0] = 0x60;
  new DataView(ip.buffer, ip.byteOffset).setUint16(4, payload.length);
  ip[6] = 17;
  ip[7] = 64;
  ip[8] = 0xfd;
  ip[23] = 1;
  ip[24] = 0xfd;
  ip[39] = 2;
  ip.set(payload, 40);
  return frame;
}
