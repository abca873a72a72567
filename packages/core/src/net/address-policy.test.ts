import { describe, expect, it } from "vitest";
import { BLOCKED } from "./address-policy.fixture.js";
import { AddressPolicy } from "./address-policy.js";

const PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"];

describe("address policy", () => {
  it.each(BLOCKED)("refuses %s (%s)", (address, reason) => {
    expect(new AddressPolicy().refusal(address)).toContain(reason);
  });

  it("lets public unicast addresses through, and private ones only when the operator allows them", () => {
    const policy = new AddressPolicy();
    for (const address of PUBLIC) expect(policy.refusal(address), address).toBeUndefined();
    const intranet = new AddressPolicy(["10.20.0.0/16", "fd12::/16"]);
    expect(intranet.refusal("10.20.3.4")).toBeUndefined();
    expect(intranet.refusal("::ffff:10.20.3.4")).toBeUndefined();
    expect(intranet.refusal("fd12::5")).toBeUndefined();
    expect(intranet.refusal("10.21.0.1")).toBe("private");
    expect(intranet.refusal("169.254.169.254")).toBe("linkLocal");
  });
});

describe("address policy: the private networks (knowledge.allowPrivateUrls)", () => {
  const intranet = new AddressPolicy([], { privateNetworks: true });

  it.each([["10.1.2.3"], ["172.31.0.9"], ["192.168.1.1"], ["fd12::5"], ["::ffff:192.168.1.1"]])(
    "lets %s through",
    (address) => expect(intranet.refusal(address)).toBeUndefined(),
  );

  it.each([
    ["127.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["169.254.169.254", "linkLocal"],
    ["fe80::1", "linkLocal"],
    ["fd00:ec2::254", "uniqueLocal"], // AWS's IPv6 instance metadata, inside fc00::/7
    ["100.100.100.200", "carrierGradeNat"], // Alibaba Cloud's metadata
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
  ])("still refuses %s (%s)", (address, reason) => {
    expect(intranet.refusal(address)).toContain(reason);
  });

  it("opens no more than that: the operator's own ranges open the rest", () => {
    expect(
      new AddressPolicy(["fd00:ec2::254"], { privateNetworks: true }).refusal("fd00:ec2::254"),
    ).toBeUndefined();
    expect(new AddressPolicy(["127.0.0.1"]).refusal("127.0.0.1")).toBeUndefined();
  });
});

describe("address policy: what knowledge's own check refused and search's did not", () => {
  it.each([
    ["::808:808", "ipv4Compatible"], // deprecated IPv4-compatible form (::/96) of 8.8.8.8
    ["::127.0.0.1", "ipv4Compatible"],
    ["::2", "ipv4Compatible"],
    ["64:ff9b:1::808:808", "localUseNat64"], // RFC 8215: the operator's own NAT64, reaching inside
    ["64:ff9b:1::", "localUseNat64"],
    ["1.2.3", "unparsable"], // not an address the socket takes, though ipaddr.js reads it as 1.2.0.3
    ["010.8.8.8", "unparsable"], // octal 8.8.8.8 to ipaddr.js
  ])("refuses %s (%s)", (address, reason) => {
    expect(new AddressPolicy().refusal(address)).toContain(reason);
  });

  it("still lets the operator allow them", () => {
    expect(new AddressPolicy(["::/96"]).refusal("::808:808")).toBeUndefined();
    expect(new AddressPolicy(["64:ff9b:1::/48"]).refusal("64:ff9b:1::808:808")).toBeUndefined();
  });

  it("judges ::a.b.c.d as the IPv4-compatible address the socket connects to, not as IPv4-mapped", () => {
    // ipaddr.js alone read "::8.8.8.8" as ::ffff:8.8.8.8 and let it through.
    expect(new AddressPolicy().refusal("::8.8.8.8")).toBe("ipv4Compatible");
    expect(new AddressPolicy(["8.8.8.8"]).refusal("::8.8.8.8")).toBe("ipv4Compatible");
  });
});

/** knowledge's isPrivateAddress, as the shared policy answers it. */
const isPrivateAddress = (address: string) => new AddressPolicy().refusal(address) !== undefined;

describe("address policy: knowledge's classification", () => {
  it("classifies the ranges, including IPv4 embedded in IPv6", () => {
    for (const address of [
      "10.1.2.3",
      "100.64.0.1",
      "169.254.169.254",
      "172.31.0.1",
      "192.168.1.1",
      "224.0.0.1",
      "255.255.255.255",
      "::ffff:a9fe:a9fe",
      "::ffff:10.0.0.1",
      "fc00::1",
      "ff02::1",
    ])
      expect(isPrivateAddress(address), address).toBe(true);
    for (const address of [
      "93.184.216.34",
      "2606:4700::1111",
      "::ffff:5db8:d822",
      "2002:5db8:d822::1",
      "64:ff9b::5db8:d822",
    ])
      expect(isPrivateAddress(address), address).toBe(false);
  });
  it("refuses the first and last address of every range knowledge's own list refused, also embedded in IPv6", () => {
    const ipv4 = [
      ["0.0.0.0", "0.255.255.255"],
      ["10.0.0.0", "10.255.255.255"],
      ["100.64.0.0", "100.127.255.255"],
      ["127.0.0.0", "127.255.255.255"],
      ["169.254.0.0", "169.254.255.255"],
      ["172.16.0.0", "172.31.255.255"],
      ["192.0.0.0", "192.0.0.255"],
      ["192.0.2.0", "192.0.2.255"],
      ["192.168.0.0", "192.168.255.255"],
      ["198.18.0.0", "198.19.255.255"],
      ["198.51.100.0", "198.51.100.255"],
      ["203.0.113.0", "203.0.113.255"],
      ["224.0.0.0", "239.255.255.255"],
      ["240.0.0.0", "255.255.255.255"],
    ].flat();
    const hex = (address: string) => {
      const [a, b, c, d] = address.split(".").map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    };
    for (const address of ipv4) {
      const [high, low] = hex(address);
      for (const form of [
        address,
        `::ffff:${address}`,
        `::ffff:0:${high}:${low}`,
        `64:ff9b::${high}:${low}`,
        `2002:${high}:${low}::1`,
      ])
        expect(isPrivateAddress(form), form).toBe(true);
    }
    for (const address of [
      "::",
      "::ffff:ffff",
      "64:ff9b:1::",
      "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
      "100::",
      "100::ffff:ffff:ffff:ffff",
      "2001::",
      "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
      "2001:db8::",
      "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
      "fc00::",
      "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "fe80::",
      "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "fec0::",
      "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "ff00::",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ])
      expect(isPrivateAddress(address), address).toBe(true);
  });
});
