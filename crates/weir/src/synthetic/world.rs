//! The network the flows cross, built once from the seed: the routers and their interfaces, the remote
//! ASes with their numbers, names, countries and prefixes, and the addresses on both sides.
//!
//! An address is drawn by its popularity rank and everything about it follows from the rank: a remote
//! address's AS (and so its country, name, prefix and the interface it is reached over), a local address's
//! site and the internal interface it sits behind. So the same address always comes with the same facts,
//! as it does in real data.

use std::collections::HashSet;
use std::net::Ipv6Addr;

use weir_flow::ipv4;

use super::catalogue::{
    COUNTRIES, INTERFACES, LOCAL_AS_NAME, LOCAL_COUNTRY, NAMED_ASES, Role, RouterSpec, SUFFIXES, SYLLABLES,
    Service, THREATS, TRANSITS, Vendor,
};
use super::random::{Rng, Weighted, Zipf, mix, unit_of};

/// Remote ASes, named ones included.
pub const REMOTE_ASES: usize = 5000;
/// Popularity ranks of remote IPv4 and IPv6 addresses.
pub const REMOTE_V4: u64 = 600_000;
const REMOTE_V6: u64 = 150_000;
/// Popularity ranks of local client addresses per site.
const LOCAL_V4: u64 = 25_000;
const LOCAL_V6: u64 = 4_000;
/// Local servers per site.
const LOCAL_SERVERS: u64 = 300;
/// The most popular remote addresses belong to the named ASes (the big content and cloud networks).
const NAMED_RANKS: u64 = 2_000;
/// One remote address in this many is on a threat list.
const THREAT_ONE_IN: u64 = 5_000;
/// Interfaces per router.
pub const IFS_PER_ROUTER: usize = INTERFACES.len();

/// A string of the world, by its index in [`World::strings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text(pub u32);

/// One exporting router.
#[derive(Debug, Clone)]
pub struct Router {
    pub addr: Ipv6Addr,
    pub name: Text,
    /// NetFlow v9 source id: each router's own, so that one sender can replay them all.
    pub domain: u32,
    pub sampling_rate: u32,
    pub direction: u8,
    /// Share of the flow records it exports, relative to the others.
    pub weight: f64,
    /// The AS it buys transit from.
    pub transit: usize,
    /// Its site's customer addresses: an IPv4 /14 and an IPv6 /40.
    site_v4: u32,
    site_v6: u128,
}

/// One interface of a router.
#[derive(Debug, Clone)]
pub struct Interface {
    pub role: Role,
    pub index: u32,
    pub name: Text,
    pub speed: u64,
    /// 1 external, 2 internal (the schema's boundary codes).
    pub boundary: u8,
    pub vlan: u16,
    /// The neighbour traffic leaving through it goes to.
    pub next_hop_v4: Ipv6Addr,
    pub next_hop_v6: Ipv6Addr,
    /// BGP communities of routes learnt over it (empty inside).
    pub communities: [u32; 2],
}

/// A remote AS.
#[derive(Debug, Clone)]
pub struct RemoteAs {
    pub number: u32,
    pub name: Text,
    pub country: Text,
    /// Its IPv4 /16 and its IPv6 /32, and the prefix lengths it announces.
    v4: u32,
    v6: u128,
    pub v4_mask: u8,
    pub v6_mask: u8,
    /// Reached over the exchange rather than transit.
    pub peers: bool,
    /// ASes between the transit provider and it (0, 1 or 2 of them).
    pub middle: [u32; 2],
    pub middle_len: u8,
}

/// Which end of the network an address is on, and what goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A local address, behind internal interface `iface` (index among the router's interfaces).
    Local { iface: usize },
    /// A remote address of AS `asn` (index in [`World::ases`]).
    Remote { asn: usize },
}

/// An address and its facts.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub addr: Ipv6Addr,
    pub side: Side,
    /// The length of the routed prefix it is in.
    pub mask: u8,
    /// On a threat list: which entry.
    pub threat: Option<Text>,
}

/// The generated network.
#[derive(Debug)]
pub struct World {
    seed: u64,
    /// Every string flows carry, by [`Text`].
    pub strings: Vec<Box<str>>,
    pub routers: Vec<Router>,
    /// `IFS_PER_ROUTER` per router, router by router.
    pub interfaces: Vec<Interface>,
    pub ases: Vec<RemoteAs>,
    pub local_name: Text,
    pub local_country: Text,
    /// The services flows use.
    pub services: Vec<Service>,
    /// Applications, one per service.
    pub apps: Vec<Text>,
    threats: Vec<Text>,
    remote_v4: Zipf,
    remote_v6: Zipf,
    local_v4: Zipf,
    local_v6: Zipf,
    servers: Zipf,
    as_rank: Zipf,
    named_rank: Zipf,
}

impl World {
    /// The network of `seed`, exported by `routers`, whose flows use `services`.
    pub fn new(seed: u64, routers: &[RouterSpec], services: &[Service]) -> World {
        let specs = routers;
        let mut strings = Strings::default();
        let mut rng = Rng::new(mix(seed, 1));
        let routers = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| Router {
                addr: ipv4([192, 0, 2, 1 + i as u8]),
                name: strings.add(spec.name),
                domain: 1 + i as u32,
                sampling_rate: spec.sampling_rate,
                direction: spec.direction,
                weight: spec.weight,
                transit: i % TRANSITS.len(),
                site_v4: (100 << 24) | ((64 + 4 * i as u32) << 16),
                site_v6: (0x2001_0db8_u128 << 96) | ((i as u128) << 88),
            })
            .collect::<Vec<_>>();
        let mut interfaces = Vec::with_capacity(routers.len() * IFS_PER_ROUTER);
        for (r, spec) in specs.iter().enumerate() {
            for (k, &(role, jname, jindex, cname, cindex, speed)) in INTERFACES.iter().enumerate() {
                let (name, index) = match spec.vendor {
                    Vendor::Juniper => (jname, jindex),
                    Vendor::Cisco => (cname, cindex),
                };
                let (r8, k8) = (r as u8, k as u8);
                let internal = role == Role::Internal;
                // Neighbours: transit on 203.0.113.0/24, the exchange on 198.51.100.0/24, other local
                // routers on 100.127.0.0/16.
                let next_hop_v4 = match role {
                    Role::Transit => ipv4([203, 0, 113, 1 + 8 * r8]),
                    Role::Peering => ipv4([198, 51, 100, 1 + rng.below(250) as u8]),
                    Role::Internal => ipv4([100, 127, r8, 1 + k8]),
                };
                let v6_net: u16 = match role {
                    Role::Transit => 0xf001,
                    Role::Peering => 0xf002,
                    Role::Internal => 0xf100 + u16::from(r8),
                };
                let next_hop_v6 = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, v6_net, 0, 0, 0, 1 + u16::from(k8));
                let local = super::catalogue::LOCAL_AS << 16;
                interfaces.push(Interface {
                    role,
                    index,
                    name: strings.add(name),
                    speed,
                    boundary: if internal { 2 } else { 1 },
                    vlan: if internal && spec.vlans {
                        100 + 10 * k as u16
                    } else {
                        0
                    },
                    next_hop_v4,
                    next_hop_v6,
                    communities: match role {
                        Role::Transit => [local | 100, local | (1000 + r as u32)],
                        Role::Peering => [local | 200, local | (2000 + r as u32)],
                        Role::Internal => [0, 0],
                    },
                });
            }
        }
        let ases = remote_ases(seed, &mut strings);
        let apps = services.iter().map(|s| strings.add(s.app)).collect();
        let threats = THREATS.iter().map(|t| strings.add(t)).collect();
        World {
            seed,
            local_name: strings.add(LOCAL_AS_NAME),
            local_country: strings.add(LOCAL_COUNTRY),
            strings: strings.list,
            routers,
            interfaces,
            ases,
            services: services.to_vec(),
            apps,
            threats,
            remote_v4: Zipf::new(REMOTE_V4, 0.9),
            remote_v6: Zipf::new(REMOTE_V6, 0.9),
            local_v4: Zipf::new(LOCAL_V4, 0.9),
            local_v6: Zipf::new(LOCAL_V6, 0.9),
            servers: Zipf::new(LOCAL_SERVERS, 1.3),
            as_rank: Zipf::new(REMOTE_ASES as u64, 1.05),
            named_rank: Zipf::new(NAMED_ASES.len() as u64, 1.0),
        }
    }

    /// Interface `k` of router `r`.
    pub fn interface(&self, r: usize, k: usize) -> &Interface {
        &self.interfaces[r * IFS_PER_ROUTER + k]
    }

    /// A remote address, by popularity.
    pub fn remote(&self, rng: &mut Rng, v6: bool) -> Endpoint {
        let zipf = if v6 { &self.remote_v6 } else { &self.remote_v4 };
        self.remote_at(zipf.sample(rng), v6)
    }

    /// The remote address of popularity rank `rank` (0 the most popular; ranks past the last wrap around).
    pub fn remote_at(&self, rank: u64, v6: bool) -> Endpoint {
        let (ranks, salt) = if v6 { (REMOTE_V6, 2) } else { (REMOTE_V4, 3) };
        let rank = rank % ranks;
        let h = mix(self.seed ^ salt, rank);
        // The AS is drawn by its own popularity, from the address's hash, so it is the same every time.
        let as_rank = if rank < NAMED_RANKS {
            &self.named_rank
        } else {
            &self.as_rank
        };
        let asn = as_rank.sample(&mut Rng::new(h)) as usize;
        let a = &self.ases[asn];
        let g = mix(h, 7);
        let addr = if v6 {
            Ipv6Addr::from(a.v6 | u128::from(g) | (u128::from(h as u32) << 64))
        } else {
            ipv4((a.v4 | (g as u32 & 0xffff)).to_be_bytes())
        };
        let threat = h
            .is_multiple_of(THREAT_ONE_IN)
            .then(|| self.threats[(g >> 60) as usize % self.threats.len()]);
        Endpoint {
            addr,
            side: Side::Remote { asn },
            mask: if v6 { a.v6_mask } else { a.v4_mask },
            threat,
        }
    }

    /// A local customer address of router `r`'s site, by popularity.
    pub fn local_client(&self, rng: &mut Rng, r: usize, v6: bool) -> Endpoint {
        let router = &self.routers[r];
        let (rank, salt) = if v6 {
            (self.local_v6.sample(rng), 4)
        } else {
            (self.local_v4.sample(rng), 5)
        };
        let h = mix(self.seed ^ salt, (r as u64) << 32 | rank);
        let addr = if v6 {
            // A /56 per customer, a random interface id.
            Ipv6Addr::from(router.site_v6 | (u128::from(h as u16) << 72) | u128::from(mix(h, 1)))
        } else {
            ipv4((router.site_v4 | (h as u32 & 0x3_ffff)).to_be_bytes())
        };
        self.local_at(addr, if v6 { 56 } else { 22 }, h)
    }

    /// Customer IPv4 address number `host` of router `r`'s site (a /14; numbers past its size wrap
    /// around), whatever its popularity: what a scan of the site reaches.
    pub fn local_host(&self, r: usize, host: u32) -> Endpoint {
        let addr = self.routers[r].site_v4 | (host & 0x3_ffff);
        self.local_at(ipv4(addr.to_be_bytes()), 22, mix(self.seed ^ 5, u64::from(addr)))
    }

    /// The customer IPv4 prefix of router `r`'s site.
    pub fn site_v4(&self, r: usize) -> (std::net::Ipv4Addr, u8) {
        (self.routers[r].site_v4.into(), 14)
    }

    /// A local server of router `r`'s site, by popularity: the first addresses of the site.
    pub fn local_server(&self, rng: &mut Rng, r: usize, v6: bool) -> Endpoint {
        let router = &self.routers[r];
        let rank = self.servers.sample(rng);
        let addr = if v6 {
            Ipv6Addr::from(router.site_v6 | u128::from(rank + 1))
        } else {
            ipv4((router.site_v4 | (rank as u32 + 1)).to_be_bytes())
        };
        let h = mix(self.seed ^ 6, (r as u64) << 32 | rank);
        self.local_at(addr, if v6 { 64 } else { 24 }, h)
    }

    /// A local address behind one of the router's internal interfaces, chosen by the address's hash.
    fn local_at(&self, addr: Ipv6Addr, mask: u8, h: u64) -> Endpoint {
        let internal = INTERFACES.iter().filter(|i| i.0 == Role::Internal).count();
        let iface = IFS_PER_ROUTER - internal + (h >> 40) as usize % internal;
        Endpoint {
            addr,
            side: Side::Local { iface },
            mask,
            threat: None,
        }
    }

    /// The interface (index among a router's interfaces) traffic to or from `e` crosses.
    pub fn attachment(&self, e: &Endpoint) -> usize {
        match e.side {
            Side::Local { iface } => iface,
            Side::Remote { asn } => self.uplink(asn),
        }
    }

    /// Another interface of the same boundary as interface `k`: where traffic goes when both ends sit
    /// behind the same side (transit between two remote ASes, traffic between two local customers).
    pub fn other(&self, k: usize) -> usize {
        let boundary = |i: usize| INTERFACES[i].0 == Role::Internal;
        (1..IFS_PER_ROUTER)
            .map(|step| (k + step) % IFS_PER_ROUTER)
            .find(|&i| boundary(i) == boundary(k))
            .unwrap_or(k)
    }

    /// The interface (index among a router's interfaces) remote AS `asn` is reached over.
    pub fn uplink(&self, asn: usize) -> usize {
        let role = if self.ases[asn].peers {
            Role::Peering
        } else {
            Role::Transit
        };
        INTERFACES.iter().position(|i| i.0 == role).unwrap_or(0)
    }

    /// The AS path from router `r` to remote AS `asn` leaving over interface `iface`, into `path`; its
    /// length. Over the exchange the path is the AS itself; over transit it starts at the provider.
    pub fn as_path(&self, r: usize, iface: usize, asn: usize, path: &mut [u32; 4]) -> usize {
        let a = &self.ases[asn];
        let transit = TRANSITS[self.routers[r].transit];
        if self.interface(r, iface).role == Role::Peering || a.number == transit {
            path[0] = a.number;
            return 1;
        }
        path[0] = transit;
        let mut n = 1;
        for &hop in &a.middle[..usize::from(a.middle_len)] {
            if hop != a.number && !path[..n].contains(&hop) {
                path[n] = hop;
                n += 1;
            }
        }
        path[n] = a.number;
        n + 1
    }
}

/// Strings collected while the world is built.
#[derive(Debug, Default)]
struct Strings {
    list: Vec<Box<str>>,
}

impl Strings {
    fn add(&mut self, s: &str) -> Text {
        if let Some(i) = self.list.iter().position(|x| &**x == s) {
            return Text(i as u32);
        }
        self.list.push(s.into());
        Text(self.list.len() as u32 - 1)
    }
}

/// The remote ASes: the named ones first (the most popular), then made-up ones with unique numbers and
/// names, a country each, a /16 and a /32 each.
fn remote_ases(seed: u64, strings: &mut Strings) -> Vec<RemoteAs> {
    let countries = Weighted::new(COUNTRIES.iter().map(|c| c.1));
    let mut numbers: HashSet<u32> = NAMED_ASES.iter().map(|a| a.0).collect();
    numbers.insert(super::catalogue::LOCAL_AS);
    let mut names: HashSet<String> = NAMED_ASES.iter().map(|a| a.1.to_owned()).collect();
    let mut ases = Vec::with_capacity(REMOTE_ASES);
    // First octets of the /16s, two hundred and fifty-six /16s each.
    const FIRST_OCTETS: [u32; 20] = [
        5, 23, 31, 37, 41, 45, 46, 49, 51, 52, 54, 62, 77, 78, 79, 80, 81, 82, 83, 85,
    ];
    for i in 0..REMOTE_ASES {
        let h = mix(seed ^ 0xa5, i as u64);
        let mut pick = Rng::new(h);
        let (number, name, country) = match NAMED_ASES.get(i) {
            Some(&(number, name, country)) => (number, strings.add(name), strings.add(country)),
            None => {
                let number = loop {
                    let n = if pick.chance(0.7) {
                        pick.range(1000, 64_495) as u32
                    } else {
                        pick.range(131_072, 401_000) as u32
                    };
                    if numbers.insert(n) {
                        break n;
                    }
                };
                let mut name = format!(
                    "{}{}{}",
                    SYLLABLES[pick.below(SYLLABLES.len() as u64) as usize],
                    SYLLABLES[pick.below(SYLLABLES.len() as u64) as usize],
                    SUFFIXES[pick.below(SUFFIXES.len() as u64) as usize]
                );
                if !names.insert(name.clone()) {
                    name = format!("{name}-{number}");
                    names.insert(name.clone());
                }
                let country = COUNTRIES[countries.pick(unit_of(pick.next_u64()))].0;
                (number, strings.add(&name), strings.add(country))
            }
        };
        // A spread of the index, so that popular ASes are not all in one /8.
        let block = (i * 2_971 + 17) % REMOTE_ASES;
        let v4 = (FIRST_OCTETS[block / 256 % FIRST_OCTETS.len()] << 24) | ((block % 256) as u32) << 16;
        let v6 = (0x2a02_u128 << 112) | ((block as u128) << 96);
        let middle_len = pick.below(3) as u8;
        let middle = [
            TRANSITS[pick.below(TRANSITS.len() as u64) as usize],
            NAMED_ASES[pick.below(NAMED_ASES.len() as u64) as usize].0,
        ];
        ases.push(RemoteAs {
            number,
            name,
            country,
            v4,
            v6,
            v4_mask: 16 + pick.below(9) as u8,
            v6_mask: 32 + 4 * pick.below(5) as u8,
            peers: pick.chance(if i < 200 { 0.7 } else { 0.05 }),
            middle,
            middle_len,
        });
    }
    ases
}

#[cfg(test)]
mod tests {
    use super::super::catalogue::{ROUTERS, SERVICES};
    use super::*;

    fn world(seed: u64) -> World {
        World::new(seed, &ROUTERS, SERVICES)
    }

    #[test]
    fn an_address_always_comes_with_the_same_as() {
        let world = world(4);
        let mut rng = Rng::new(1);
        let mut seen = std::collections::HashMap::new();
        for i in 0..50_000 {
            let e = world.remote(&mut rng, i % 7 == 0);
            let Side::Remote { asn } = e.side else {
                panic!("a remote address is remote")
            };
            assert_eq!(*seen.entry(e.addr).or_insert(asn), asn, "{}", e.addr);
            let a = &world.ases[asn];
            let in_prefix = match e.addr.to_ipv4_mapped() {
                Some(v4) => u32::from(v4) & 0xffff_0000 == a.v4,
                None => u128::from(e.addr) >> 96 == a.v6 >> 96,
            };
            assert!(in_prefix, "{} outside the prefixes of AS{}", e.addr, a.number);
        }
    }

    #[test]
    fn as_numbers_and_names_are_unique() {
        let world = world(9);
        let numbers: HashSet<u32> = world.ases.iter().map(|a| a.number).collect();
        let names: HashSet<u32> = world.ases.iter().map(|a| a.name.0).collect();
        assert_eq!(numbers.len(), REMOTE_ASES);
        assert_eq!(names.len(), REMOTE_ASES);
        assert!(!numbers.contains(&super::super::catalogue::LOCAL_AS));
    }

    #[test]
    fn local_addresses_sit_in_their_site_behind_an_internal_interface() {
        let world = world(2);
        let mut rng = Rng::new(8);
        for r in 0..world.routers.len() {
            for v6 in [false, true] {
                for e in [
                    world.local_client(&mut rng, r, v6),
                    world.local_server(&mut rng, r, v6),
                ] {
                    let Side::Local { iface } = e.side else {
                        panic!("a local address is local")
                    };
                    assert_eq!(world.interface(r, iface).role, Role::Internal);
                    match e.addr.to_ipv4_mapped() {
                        Some(v4) => assert_eq!(u32::from(v4) >> 18, world.routers[r].site_v4 >> 18),
                        None => assert_eq!(u128::from(e.addr) >> 88, world.routers[r].site_v6 >> 88),
                    }
                }
            }
        }
    }

    #[test]
    fn as_paths_start_at_the_neighbour_and_end_at_the_destination() {
        let world = world(3);
        let mut path = [0; 4];
        for asn in 0..REMOTE_ASES {
            for r in 0..world.routers.len() {
                let up = world.uplink(asn);
                let n = world.as_path(r, up, asn, &mut path);
                assert_eq!(path[n - 1], world.ases[asn].number);
                if world.interface(r, up).role == Role::Transit {
                    assert_eq!(path[0], TRANSITS[world.routers[r].transit]);
                } else {
                    assert_eq!(n, 1);
                }
                let distinct: HashSet<u32> = path[..n].iter().copied().collect();
                assert_eq!(distinct.len(), n, "a loop in {:?}", &path[..n]);
            }
        }
    }
}
