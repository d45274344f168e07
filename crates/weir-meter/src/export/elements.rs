//! Which information element carries each schema field in a v9 or IPFIX record, for IPv4 and for IPv6
//! flows, and in how many bytes.
//!
//! IPv4 and IPv6 flows need different elements for addresses, masks, next hops and ICMP, so a stream has
//! one template per IP version, as routers do. Lengths are those Cisco and Juniper send, except counters:
//! 8 bytes, since a flow under a 30-minute active timeout can pass 4 GiB.

use weir_flow::Field;
use weir_proto::template::FieldSpec;
use weir_proto::template::export::RecordLayout;

use super::config::ExportConfigError;
use super::family::Family;

/// The two template dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    V9,
    Ipfix,
}

/// Why a schema field has no element: it is not something the exporter observed.
const NOT_OBSERVED: &str = "it is set by the collector or by enrichment, not observed by the probe";

/// The element that carries `field` for `family` flows in `dialect`.
pub(crate) fn element(
    field: Field,
    dialect: Dialect,
    family: Family,
) -> Result<FieldSpec, ExportConfigError> {
    let v6 = family == Family::V6;
    let ipfix = dialect == Dialect::Ipfix;
    let pick = |v4: u16, v6_id: u16| if v6 { v6_id } else { v4 };
    let (id, length) = match field {
        // v9 stamps flows in uptime (FIRST_SWITCHED, LAST_SWITCHED); IPFIX in absolute milliseconds.
        Field::flow_start if ipfix => (152, 8),
        Field::flow_start => (22, 4),
        Field::flow_end if ipfix => (153, 8),
        Field::flow_end => (21, 4),
        Field::in_if => (10, 4),
        Field::out_if => (14, 4),
        Field::flow_direction => (61, 1),
        Field::forwarding_status => (89, 1),
        // ipVersion: the template already implies it, but some collectors read it.
        Field::etype => (60, 1),
        Field::proto => (4, 1),
        Field::src_addr => (pick(8, 27), if v6 { 16 } else { 4 }),
        Field::dst_addr => (pick(12, 28), if v6 { 16 } else { 4 }),
        Field::next_hop => (pick(15, 62), if v6 { 16 } else { 4 }),
        Field::bgp_next_hop => (pick(18, 63), if v6 { 16 } else { 4 }),
        Field::src_port => (7, 2),
        Field::dst_port => (11, 2),
        Field::src_mask => (pick(9, 29), 1),
        Field::dst_mask => (pick(13, 30), 1),
        Field::tos => (5, 1),
        // tcpControlBits is 2 bytes in IPFIX (RFC 7125); v9's TCP_FLAGS is one.
        Field::tcp_flags => (6, if ipfix { 2 } else { 1 }),
        // v9 carries type and code together (ICMP_TYPE, type * 256 + code); IPFIX has one element each.
        Field::icmp_type | Field::icmp_code if !ipfix => (pick(32, 139), 2),
        Field::icmp_type => (pick(176, 178), 1),
        Field::icmp_code => (pick(177, 179), 1),
        Field::vlan => (58, 2),
        Field::src_mac => (56, 6),
        Field::dst_mac => (80, 6),
        Field::src_as => (16, 4),
        Field::dst_as => (17, 4),
        Field::flow_end_reason => (136, 1),
        Field::bytes => (1, 8),
        Field::packets => (2, 8),
        Field::flows => (3, 4),
        Field::sampling_rate => {
            return Err(not_exportable(
                field,
                "sampling is announced in an options record, from the exporter's sampling setting",
            ));
        }
        Field::dst_as_path | Field::dst_communities => {
            return Err(not_exportable(field, "lists are not exported"));
        }
        Field::extra_fields => return Err(not_exportable(field, "it holds elements of other exporters")),
        Field::observation_domain => {
            return Err(not_exportable(
                field,
                "it is the header's source id / observation domain",
            ));
        }
        _ => return Err(not_exportable(field, NOT_OBSERVED)),
    };
    Ok(FieldSpec::new(id, length))
}

fn not_exportable(field: Field, why: &'static str) -> ExportConfigError {
    ExportConfigError::FieldNotExportable {
        field: field.column().name,
        why,
    }
}

/// The elements of a template for `family` flows carrying `fields`, in order, and how records of them are
/// written; an element two fields share (v9's ICMP type and code) appears once. Fields must be listed once
/// each.
pub(crate) fn template_fields(
    fields: &[Field],
    dialect: Dialect,
    family: Family,
) -> Result<(Vec<FieldSpec>, RecordLayout), ExportConfigError> {
    if fields.is_empty() {
        return Err(ExportConfigError::NoFields);
    }
    let mut specs = Vec::with_capacity(fields.len());
    let mut layout = RecordLayout::default();
    for (i, &field) in fields.iter().enumerate() {
        if fields[..i].contains(&field) {
            return Err(ExportConfigError::DuplicateField(field.column().name));
        }
        let spec = element(field, dialect, family)?;
        if !specs.contains(&spec) {
            layout.push(&spec).map_err(|source| ExportConfigError::Element {
                field: field.column().name,
                source,
            })?;
            specs.push(spec);
        }
    }
    Ok((specs, layout))
}

#[cfg(test)]
mod tests {
    use weir_flow::{FIELDS, Origin};

    use super::*;

    #[test]
    fn every_field_exporters_carry_has_an_element_the_encoder_accepts() {
        let not_elements = [
            Field::observation_domain,
            Field::sampling_rate,
            Field::dst_as_path,
            Field::dst_communities,
            Field::extra_fields,
        ];
        let carried: Vec<Field> = FIELDS
            .iter()
            .copied()
            .filter(|f| f.column().origin == Origin::Export && !not_elements.contains(f))
            .collect();
        for dialect in [Dialect::V9, Dialect::Ipfix] {
            for family in [Family::V4, Family::V6] {
                template_fields(&carried, dialect, family).unwrap();
                for f in FIELDS.iter().filter(|f| !carried.contains(f)) {
                    assert!(element(*f, dialect, family).is_err(), "{f:?}");
                }
            }
        }
    }

    #[test]
    fn addresses_masks_and_next_hops_follow_the_ip_version() {
        let ids = |family| {
            template_fields(
                &[
                    Field::src_addr,
                    Field::dst_addr,
                    Field::next_hop,
                    Field::src_mask,
                    Field::dst_mask,
                ],
                Dialect::V9,
                family,
            )
            .unwrap()
            .0
            .iter()
            .map(|s| (s.id, s.length))
            .collect::<Vec<_>>()
        };
        assert_eq!(ids(Family::V4), [(8, 4), (12, 4), (15, 4), (9, 1), (13, 1)]);
        assert_eq!(ids(Family::V6), [(27, 16), (28, 16), (62, 16), (29, 1), (30, 1)]);
    }

    #[test]
    fn v9_carries_icmp_type_and_code_in_one_element() {
        let v9 = template_fields(&[Field::icmp_type, Field::icmp_code], Dialect::V9, Family::V6)
            .unwrap()
            .0;
        assert_eq!(v9, [FieldSpec::new(139, 2)]);
        let ipfix = template_fields(&[Field::icmp_type, Field::icmp_code], Dialect::Ipfix, Family::V4)
            .unwrap()
            .0;
        assert_eq!(ipfix, [FieldSpec::new(176, 1), FieldSpec::new(177, 1)]);
    }

    #[test]
    fn refuses_duplicates_and_fields_the_probe_does_not_observe() {
        assert_eq!(
            template_fields(&[Field::bytes, Field::bytes], Dialect::Ipfix, Family::V4).err(),
            Some(ExportConfigError::DuplicateField("bytes"))
        );
        assert_eq!(
            template_fields(&[Field::src_country], Dialect::Ipfix, Family::V4).err(),
            Some(ExportConfigError::FieldNotExportable {
                field: "src_country",
                why: NOT_OBSERVED
            })
        );
        assert_eq!(
            template_fields(&[], Dialect::V9, Family::V4).err(),
            Some(ExportConfigError::NoFields)
        );
    }
}
