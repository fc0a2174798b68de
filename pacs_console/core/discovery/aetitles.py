"""AE titles worth trying on a node that checks the called AE, most likely first."""

from __future__ import annotations

from collections.abc import Iterable

# Defaults shipped by PACS, toolkits and modalities, and titles sites pick most often. Order
# matters: a polite guesser stops early, so the commonest come first.
DICTIONARY: tuple[str, ...] = (
    # Servers and toolkits (their out-of-the-box titles)
    "ORTHANC", "DCM4CHEE", "DCMQRSCP", "STORESCP", "ANY-SCP", "PACS", "CONQUESTSRV1",
    "CLEARCANVAS", "OSIRIX", "HOROS", "WEASIS", "PYNETDICOM", "WLMSCPFS", "DCM4CHEE-ARC",
    "FINDSCU", "STORESCU", "MOVESCU", "GETSCU", "ECHOSCU", "DCMTK", "FODICOM", "GDCM",
    "POSTDICOM", "MEDDREAM", "RADIANT", "DICOMSERVER", "DICOM_SERVER", "DICOMSRV",
    # Site conventions
    "PACS1", "PACS01", "PACS_SCP", "PACSSCP", "MAIN_PACS", "ARCHIVE", "ARCHIVE1", "STORE",
    "STORAGE", "SERVER", "DICOM", "AE_TITLE", "AETITLE", "QRSCP", "QR_SCP", "SCP", "MAIN",
    "RIS", "WORKLIST", "MWL", "MWL_SCP", "WLM", "ROUTER", "GATEWAY", "VNA", "PACS_ARCHIVE",
    # Vendor archives and workstations
    "GEPACS", "CENTRICITY", "AW_SERVER", "SYNAPSE", "IMPAX", "AGFA", "CARESTREAM", "VUEPACS",
    "SECTRA", "ISITE", "ISPACS", "INTELLISPACE", "SYNGO", "SYNGOVIA", "KPSERVER", "INFINITT",
    "RAYSTATION", "ARIA", "MIM", "NOVARAD", "RAMSOFT", "POWERSERVER", "MEDWEB",
    # Modalities
    "CT", "MR", "CR", "DX", "US", "MG", "NM", "PT", "XA", "RF", "OT",
    "CT1", "MR1", "CR1", "DX1", "US1", "MG1", "CT_SCANNER", "MRI", "XRAY", "ULTRASOUND",
    "MAMMO", "FCR", "CONSOLE", "MODALITY",
)

# The strongest single hint: what a port usually belongs to.
_PORT_HINTS = {4242: ("ORTHANC",), 11112: ("DCMQRSCP", "DCM4CHEE", "STORESCP"),
               104: ("PACS", "DCM4CHEE", "ANY-SCP")}


def candidates(port: int, *, known: Iterable[str | tuple[str, str]] = (),
               hints: Iterable[str] = (),
               site_titles: Iterable[str] = (), dictionary: bool = True,
               limit: int = 64) -> list[tuple[str, str]]:
    """``[(ae_title, source), ...]`` without repeats, best first, at most ``limit``.

    ``known``: titles recorded for this very host:port, as ``(title, source)`` or a bare
    title (then from the address book);
    ``hints``: titles the node itself announced (DNS-SD TXT, Orthanc's /system);
    ``site_titles``: every title already in the address book or the site inventory.
    """
    ordered: dict[str, str] = {}

    def add(titles: Iterable[str], source: str) -> None:
        for title in titles:
            title = title.strip()
            if title and len(title) <= 16 and title not in ordered:
                ordered[title] = source

    for item in known:
        title, source = (item, "address-book") if isinstance(item, str) else item
        add([title], source)
    add(hints, "announced")
    if dictionary:
        add(_PORT_HINTS.get(port, ()), "dictionary")
        add(site_titles, "site-inventory")
        add(DICTIONARY, "dictionary")
    return list(ordered.items())[:limit]
