// Address examples shared by the address policy's tests and the services' fetch tests.

/** Every range a result URL must not reach, with an example address and the reason given. */
export const BLOCKED: Array<[string, string]> = [
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["10.0.0.1", "private"],
  ["172.16.5.4", "private"],
  ["192.168.1.1", "private"],
  ["169.254.169.254", "linkLocal"], // AWS, GCP and Azure instance metadata
  ["169.254.0.1", "linkLocal"],
  ["100.100.100.200", "carrierGradeNat"], // Alibaba Cloud metadata
  ["0.0.0.0", "unspecified"],
  ["255.255.255.255", "broadcast"],
  ["224.0.0.251", "multicast"],
  ["192.0.0.8", "reserved"],
  ["198.18.0.1", "reserved"],
  ["240.0.0.1", "reserved"],
  ["::1", "loopback"],
  ["::", "unspecified"],
  ["fe80::1", "linkLocal"],
  ["fc00::1", "uniqueLocal"],
  ["fd00:ec2::254", "uniqueLocal"], // AWS metadata over IPv6
  ["ff02::1", "multicast"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:169.254.169.254", "linkLocal"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:7f00:1", "loopback"],
  ["64:ff9b::a9fe:a9fe", "linkLocal"], // NAT64 of 169.254.169.254
  ["2002:a00:1::1", "private"], // 6to4 of 10.0.0.1
  ["2001::1", "teredo"],
  ["2001:db8::1", "reserved"],
];
