//! `weir bench data`: the same seed makes the same flows; the flows hang together (an AS has one name and
//! country, an interface one name, times are in order) and look like an edge network's traffic; the v9
//! capture decodes back to the very flows generated.

// A failed unwrap in the helpers below is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::fs;

use common::{TempDir, flows, run};
use serde_json::Value;

/// 2026-11-02T00:00:00Z, the default start, in seconds.
const START: u64 = 1_793_577_600;

/// Runs `weir bench data` with `args` and returns its standard output.
fn bench_data(args: &[&str]) -> Vec<u8> {
    let mut all = vec!["bench", "data"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Seconds since the epoch of an RFC 3339 UTC time printed by Weir, with its fraction.
fn secs(t: &Value) -> f64 {
    let t = t.as_str().unwrap();
    let (y, m, d): (i64, i64, i64) = (
        t[0..4].parse().unwrap(),
        t[5..7].parse().unwrap(),
        t[8..10].parse().unwrap(),
    );
    // Days from civil (Howard Hinnant), enough for the dates of these tests.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let clock: f64 = t[11..t.len() - 1]
        .split(':')
        .map(|p| p.parse::<f64>().unwrap())
        .fold(0.0, |acc, p| acc * 60.0 + p);
    days as f64 * 86_400.0 + clock
}

fn u(f: &Value, key: &str) -> u64 {
    f[key].as_u64().unwrap_or_else(|| panic!("{key} in {f}"))
}

fn s<'a>(f: &'a Value, key: &str) -> &'a str {
    f[key].as_str().unwrap_or_else(|| panic!("{key} in {f}"))
}

#[test]
fn the_same_seed_makes_the_same_flows_and_another_seed_others() {
    let a = bench_data(&["--flows", "3000", "--seed", "7", "--ndjson", "-"]);
    let b = bench_data(&["--flows", "3000", "--seed", "7", "--ndjson", "-"]);
    let c = bench_data(&["--flows", "3000", "--seed", "8", "--ndjson", "-"]);
    assert_eq!(flows(&a).len(), 3000);
    assert!(a == b, "two runs of seed 7 differ");
    assert!(a != c, "seeds 7 and 8 made the same flows");
}

#[test]
fn flows_are_received_in_order_within_the_window_after_they_end() {
    let out = bench_data(&[
        "--flows",
        "20000",
        "--hours",
        "2",
        "--start",
        "2026-11-02T06:00:00Z",
        "--ndjson",
        "-",
    ]);
    let flows = flows(&out);
    assert_eq!(flows.len(), 20_000);
    let (from, to) = ((START + 6 * 3600) as f64, (START + 8 * 3600) as f64);
    let mut last = 0.0;
    for f in &flows {
        let received = secs(&f["time_received"]);
        assert!(received >= last, "out of order at {f}");
        last = received;
        assert!((from..to).contains(&received), "{received} outside the window");
        let (start, end) = (secs(&f["flow_start"]), secs(&f["flow_end"]));
        assert!(start <= end && end <= received, "{f}");
        assert!(
            received - start <= 60.0 + 17.0,
            "longer than the active timeout: {f}"
        );
        assert!(
            u(f, "packets") >= 1 && u(f, "bytes") >= 40 * u(f, "packets"),
            "{f}"
        );
        assert_eq!(u(f, "flows"), 1);
    }
    // The window starts at 6:00 and traffic grows through the morning.
    let first_hour = flows
        .iter()
        .filter(|f| secs(&f["time_received"]) < from + 3600.0)
        .count();
    assert!(
        first_hour < 10_000 && first_hour > 8_000,
        "{first_hour} flows in the first hour"
    );
}

#[test]
fn every_as_router_and_interface_keeps_its_names() {
    let flows = flows(&bench_data(&["--flows", "30000", "--seed", "3", "--ndjson", "-"]));
    let mut ases: HashMap<u64, (String, String)> = HashMap::new();
    let mut routers: HashMap<String, (String, u64, u64)> = HashMap::new();
    let mut interfaces: HashMap<(String, u64), (String, u64, u64)> = HashMap::new();
    for f in &flows {
        for side in ["src", "dst"] {
            let facts = (
                s(f, &format!("{side}_as_name")).to_owned(),
                s(f, &format!("{side}_country")).to_owned(),
            );
            assert!(!facts.0.is_empty() && facts.1.len() == 2, "{f}");
            let known = ases
                .entry(u(f, &format!("{side}_as")))
                .or_insert_with(|| facts.clone());
            assert_eq!(*known, facts, "AS {} in {f}", u(f, &format!("{side}_as")));
        }
        let exporter = s(f, "exporter_addr").to_owned();
        let router = (
            s(f, "exporter_name").to_owned(),
            u(f, "sampling_rate"),
            u(f, "observation_domain"),
        );
        assert_eq!(
            *routers.entry(exporter.clone()).or_insert_with(|| router.clone()),
            router
        );
        for dir in ["in", "out"] {
            let index = u(f, &format!("{dir}_if"));
            if index == 0 {
                assert_eq!(dir, "out", "only dropped flows leave by no interface: {f}");
                assert_eq!(u(f, "forwarding_status") >> 6, 2, "{f}");
                continue;
            }
            let facts = (
                s(f, &format!("{dir}_if_name")).to_owned(),
                u(f, &format!("{dir}_if_speed")),
                u(f, &format!("{dir}_if_boundary")),
            );
            let known = interfaces
                .entry((exporter.clone(), index))
                .or_insert_with(|| facts.clone());
            assert_eq!(*known, facts, "interface {index} of {exporter}");
        }
        let path: Vec<u64> = f["dst_as_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_u64().unwrap())
            .collect();
        if let Some(&last) = path.last() {
            assert_eq!(last, u(f, "dst_as"), "the path ends at the destination: {f}");
            assert_eq!(
                u(f, "out_if_boundary"),
                1,
                "paths are of routes learnt outside: {f}"
            );
        }
    }
    assert_eq!(routers.len(), 10);
    assert_eq!(interfaces.len(), 50);
    let sampled: HashSet<u64> = routers.values().map(|r| r.1).collect();
    assert_eq!(sampled, HashSet::from([1, 1000]));
    assert!(ases.len() > 1000, "{} ASes", ases.len());
}

#[test]
fn traffic_is_skewed_like_an_edge_networks() {
    let flows = flows(&bench_data(&["--flows", "50000", "--seed", "5", "--ndjson", "-"]));
    let n = flows.len() as f64;
    let share = |pred: &dyn Fn(&Value) -> bool| flows.iter().filter(|f| pred(f)).count() as f64 / n;
    let count = |key: &str| {
        let mut c: HashMap<String, usize> = HashMap::new();
        for f in &flows {
            *c.entry(f[key].to_string()).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = c.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    let local = share(&|f| u(f, "src_as") == 64500 || u(f, "dst_as") == 64500);
    assert!((0.9..0.99).contains(&local), "one side is local in {local}");
    let v6 = share(&|f| u(f, "etype") == 0x86dd);
    assert!((0.1..0.2).contains(&v6), "IPv6 share {v6}");
    let https = share(&|f| u(f, "proto") == 6 && (u(f, "src_port") == 443 || u(f, "dst_port") == 443));
    assert!((0.35..0.5).contains(&https), "HTTPS share {https}");
    let dns = share(&|f| u(f, "proto") == 17 && (u(f, "src_port") == 53 || u(f, "dst_port") == 53));
    assert!((0.1..0.2).contains(&dns), "DNS share {dns}");
    for f in &flows {
        match (u(f, "proto"), s(f, "app")) {
            (17, "dns") => assert!(u(f, "bytes") / u(f, "packets") < 500, "{f}"),
            (1 | 58, app) => assert_eq!((app, u(f, "src_port"), u(f, "dst_port")), ("icmp", 0, 0)),
            (6, _) => assert!(u(f, "tcp_flags") != 0, "{f}"),
            _ => assert_eq!(u(f, "tcp_flags"), 0, "{f}"),
        }
    }
    // The most popular remote network is the biggest content network; a long tail of others follows.
    let remote_as = |f: &Value| {
        if u(f, "src_as") == 64500 {
            u(f, "dst_as")
        } else {
            u(f, "src_as")
        }
    };
    let mut per_as: HashMap<u64, usize> = HashMap::new();
    for f in &flows {
        *per_as.entry(remote_as(f)).or_default() += 1;
    }
    let top = per_as.iter().max_by_key(|(_, n)| **n).unwrap();
    assert_eq!(*top.0, 15169, "top AS");
    assert!(per_as.len() > 2000, "{} ASes", per_as.len());
    let addresses = count("dst_addr");
    assert!(addresses.len() > 20_000, "{} destinations", addresses.len());
    assert!(
        addresses[0].1 > 100,
        "the top destination has {} flows",
        addresses[0].1
    );
    // Heavy tails: at the unsampled routers, the biggest record is thousands of times the median.
    let mut bytes: Vec<u64> = flows
        .iter()
        .filter(|f| u(f, "sampling_rate") == 1)
        .map(|f| u(f, "bytes"))
        .collect();
    bytes.sort_unstable();
    let (median, max) = (bytes[bytes.len() / 2], bytes[bytes.len() - 1]);
    assert!(max > 1000 * median, "max {max} median {median}");
}

/// The columns a NetFlow v9 record of the default template carries, with the router's address, source id
/// and sampling (from the options), as text for comparing.
fn exported(f: &Value) -> String {
    const KEYS: [&str; 25] = [
        "exporter_addr",
        "observation_domain",
        "sampling_rate",
        "flow_start",
        "flow_end",
        "in_if",
        "out_if",
        "etype",
        "src_addr",
        "dst_addr",
        "next_hop",
        "src_port",
        "dst_port",
        "proto",
        "tos",
        "tcp_flags",
        "icmp_type",
        "icmp_code",
        "src_mask",
        "dst_mask",
        "src_as",
        "dst_as",
        "flow_end_reason",
        "bytes",
        "packets",
    ];
    KEYS.iter()
        .map(|k| f[k].to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn the_v9_capture_decodes_to_the_generated_flows_evenly_spread_over_the_window() {
    let dir = TempDir::new("bench-data-pcap");
    let capture = dir.path("flows.pcap");
    let args = ["--flows", "12000", "--seed", "11", "--hours", "1"];
    let generated = flows(&bench_data(&[&args[..], &["--ndjson", "-"]].concat()));
    bench_data(&[&args[..], &["--pcap", &capture]].concat());
    let out = run(&["decode", &capture]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoded = flows(&out.stdout);
    let mut want: Vec<String> = generated.iter().map(exported).collect();
    let mut got: Vec<String> = decoded.iter().map(exported).collect();
    want.sort();
    got.sort();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    // Packet times (the decoder's receive times) cover the hour at an even pace: a quarter of the flows
    // in each quarter of it, whatever the day's curve.
    let times: Vec<f64> = decoded
        .iter()
        .map(|f| secs(&f["time_received"]) - START as f64)
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    for q in 0..4 {
        let n = times
            .iter()
            .filter(|&&t| t >= q as f64 * 900.0 && t < (q + 1) as f64 * 900.0)
            .count();
        assert!((2_700..3_300).contains(&n), "{n} flows in quarter {q}");
    }
    assert!(fs::metadata(&capture).unwrap().len() > 12_000 * 40);
}

#[test]
fn refuses_a_bad_window_and_a_missing_output() {
    for (args, says) in [
        (vec!["--hours", "0", "--ndjson", "-"], "--hours must be above 0"),
        (vec!["--start", "2026-02-30", "--ndjson", "-"], "is not a time"),
        (vec!["--flows", "10"], "required"),
    ] {
        let out = run(&[&["bench", "data"][..], &args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(says),
            "{args:?}: {stderr}"
        );
    }
}

/// Rows and the sum of a `UInt64` column over Parquet files, read with the parquet crate.
fn parquet_sum(files: &[std::path::PathBuf], column: &str) -> (usize, u64) {
    use arrow::array::AsArray;
    use arrow::datatypes::UInt64Type;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let (mut rows, mut sum) = (0, 0);
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for rb in reader {
            let rb = rb.unwrap();
            rows += rb.num_rows();
            let values = rb.column_by_name(column).unwrap().as_primitive::<UInt64Type>();
            sum += values.iter().map(|v| v.unwrap()).sum::<u64>();
        }
    }
    (rows, sum)
}

/// Every `.parquet` file under `dir`.
fn parquet_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_store_and_the_parquet_file_hold_the_generated_flows() {
    let dir = TempDir::new("bench-data-store");
    let args = ["--flows", "20000", "--seed", "4"];
    let generated = flows(&bench_data(&[&args[..], &["--ndjson", "-"]].concat()));
    let bytes: u64 = generated.iter().map(|f| u(f, "bytes")).sum();
    let store = dir.path("store");
    bench_data(&[&args[..], &["--out", &store]].concat());
    let store = std::path::Path::new(&store);
    for table in ["flows", "flows_1m", "flows_1h", "traffic_1m", "traffic_1h"] {
        let files = parquet_files(&store.join(table));
        assert!(!files.is_empty(), "no files in {table}");
        let (rows, sum) = parquet_sum(&files, "bytes");
        assert_eq!(sum, bytes, "bytes in {table}");
        if table == "flows" {
            assert_eq!(rows, generated.len());
            assert!(
                files
                    .iter()
                    .all(|f| f.starts_with(store.join("flows/2026-11-02"))),
                "{files:?}"
            );
        } else {
            assert!(rows < generated.len(), "{table} has {rows} rows");
        }
    }
    // A day in the past ends as a collector that kept running has it: every partition merged.
    let parts: Vec<_> = parquet_files(store)
        .into_iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .collect();
    assert!(parts.is_empty(), "{parts:?}");
    let parquet = dir.path("flows.parquet");
    bench_data(&[&args[..], &["--parquet", &parquet]].concat());
    assert_eq!(parquet_sum(&[parquet.into()], "bytes"), (generated.len(), bytes));

    let out = run(&[&["bench", "data"][..], &args, &["--out", &dir.path("store")]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("is not empty"),
        "{stderr}"
    );
}

#[test]
fn a_day_reaching_the_present_ends_as_a_collector_holds_it() {
    // The day's last seventy minutes come a part a second, merged every few as `weir serve`'s upkeep
    // merges them: the newest seconds stay in parts, the hour before them sits in merged files, and the
    // hours before those each end as one merged file.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // The day ends half an hour into this hour, so that its last partition always holds merged files.
    let hour = 3600 * 1_000_000_000;
    let start = (now / hour * hour + hour / 2 - 24 * hour).to_string();
    let dir = TempDir::new("bench-data-now");
    let store = dir.path("store");
    bench_data(&["--flows", "60000", "--start", &start, "--out", &store]);
    let raw = std::path::Path::new(&store).join("flows");
    let mut hours: Vec<std::path::PathBuf> = fs::read_dir(&raw)
        .unwrap()
        .flat_map(|day| fs::read_dir(day.unwrap().path()).unwrap())
        .map(|hour| hour.unwrap().path())
        .collect();
    hours.sort();
    assert!(hours.len() >= 24, "{hours:?}");
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut n: Vec<String> = parquet_files(dir)
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    for hour in &hours[..hours.len() - 2] {
        let files = names(hour);
        assert!(
            files.len() == 1 && files[0].starts_with("merged-"),
            "{}: {files:?}",
            hour.display()
        );
    }
    let last = names(hours.last().unwrap());
    let parts = last.iter().filter(|n| n.starts_with("part-")).count();
    // Up to 8 parts wait for a merge, and a merge waits up to 15 seconds for the upkeep.
    assert!((1..=24).contains(&parts), "{last:?}");
    assert!(last.iter().any(|n| n.starts_with("merged-")), "{last:?}");
}

#[test]
fn a_settings_file_adds_its_rollups_to_the_store() {
    let dir = TempDir::new("bench-data-config");
    let config = dir.path("weir.toml");
    fs::write(
        &config,
        "[[store.rollups]]\nname = \"countries_1m\"\nresolution = \"1m\"\n\
         keys = [\"sampling_rate\", \"flow_direction\", \"src_country\", \"dst_country\"]\n",
    )
    .unwrap();
    let args = ["--flows", "5000", "--seed", "5"];
    let generated = flows(&bench_data(&[&args[..], &["--ndjson", "-"]].concat()));
    let bytes: u64 = generated.iter().map(|f| u(f, "bytes")).sum();
    let store = dir.path("store");
    bench_data(&[&args[..], &["--out", &store, "--config", &config]].concat());
    let files = parquet_files(&std::path::Path::new(&store).join("countries_1m"));
    let (rows, sum) = parquet_sum(&files, "bytes");
    assert_eq!(sum, bytes);
    assert!(rows > 0 && rows < generated.len(), "{rows} rows");

    let out = run(&[
        "bench", "data", "--flows", "10", "--config", &config, "--ndjson", "-",
    ]);
    assert!(!out.status.success(), "--config goes with --out only");
}
