"""A tiny centre built row by row, on a fixed day, for table-driven rule tests."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from sqlmodel import Session

from incident.core.store.tables import (
    CalibrationSchedule,
    Consumable,
    Crew,
    CrewMember,
    Equipment,
    Kit,
    KitItem,
    KitTemplate,
    KitTemplateItem,
    Qualification,
    Responder,
)
from incident.readiness.rules import ReadinessConfig, Requirement

DAY = date(2026, 6, 1)
CONFIG = ReadinessConfig(
    teams_required=1,
    warning_days=(30, 7),
    requirements=(
        Requirement("*", "water_sampling", "leader"),
        Requirement("*", "hazmat_ppe", "leader"),
        Requirement("*", "driving", "crew"),
        Requirement("heavy-metal sampling kit", "heavy_metal_field_test", "leader"),
    ),
)


def days(n: int) -> date:
    return DAY + timedelta(days=n)


def build_centre(session: Session) -> SimpleNamespace:
    """One crew, one heavy-metal kit (analyser + 20 strips), one vehicle: all ready on DAY."""
    tpl = KitTemplate(name="heavy-metal sampling kit")
    session.add(tpl)
    session.flush()
    session.add(KitTemplateItem(template_id=tpl.id, item_kind="equipment", item_type="analyser", quantity=1))
    session.add(
        KitTemplateItem(
            template_id=tpl.id, item_kind="consumable", item_type="cadmium test strips", quantity=20
        )
    )
    analyser = Equipment(asset_tag="INS-1", category="instrument", type="analyser")
    vehicle = Equipment(asset_tag="VEH-1", category="vehicle", type="van")
    session.add_all([analyser, vehicle])
    session.flush()
    curve = CalibrationSchedule(
        equipment_id=analyser.id, name="curve", interval_days=90, last_done=days(-30), next_due=days(60)
    )
    inspection = CalibrationSchedule(
        equipment_id=vehicle.id,
        name="inspection",
        interval_days=365,
        last_done=days(-165),
        next_due=days(200),
    )
    lot = Consumable(
        item="cadmium test strips", lot="L1", quantity=50, unit="strips", expires_on=days(300), min_stock=20
    )
    session.add_all([curve, inspection, lot])
    session.flush()
    kit = Kit(name="KIT-1", template_id=tpl.id)
    session.add(kit)
    session.flush()
    kit_analyser = KitItem(kit_id=kit.id, equipment_id=analyser.id, quantity=1)
    kit_strips = KitItem(kit_id=kit.id, consumable_id=lot.id, quantity=20)
    leader = Responder(name="Leader")
    driver = Responder(name="Driver")
    session.add_all([kit_analyser, kit_strips, leader, driver])
    session.flush()
    quals = {
        kind: Qualification(responder_id=leader.id, kind=kind, expires_on=days(400))
        for kind in ("water_sampling", "hazmat_ppe", "heavy_metal_field_test")
    }
    quals["driving"] = Qualification(responder_id=driver.id, kind="driving", expires_on=days(400))
    session.add_all(quals.values())
    crew = Crew(
        name="Crew A", leader_id=leader.id, base_lat=0, base_lon=0, vehicle_id=vehicle.id, kit_id=kit.id
    )
    session.add(crew)
    session.flush()
    session.add_all(
        [
            CrewMember(crew_id=crew.id, responder_id=leader.id),
            CrewMember(crew_id=crew.id, responder_id=driver.id),
        ]
    )
    session.flush()
    return SimpleNamespace(
        template=tpl,
        analyser=analyser,
        vehicle=vehicle,
        curve=curve,
        inspection=inspection,
        lot=lot,
        kit=kit,
        kit_analyser=kit_analyser,
        kit_strips=kit_strips,
        leader=leader,
        driver=driver,
        quals=quals,
        crew=crew,
    )
