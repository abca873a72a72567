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
