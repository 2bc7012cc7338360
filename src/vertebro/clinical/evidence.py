"""The evidence registry: every source a clinical rule or a patient-facing number may cite.

Each source names the **primary** publication or guideline (authors, journal, year, with its DOI, PMID
or the issuing body's document id). Where its content was read in a copy, digest or summary rather than
in the primary document, that page is recorded in ``read_at``: it says where the content was read,
never what the source is, and never makes a source ``confirmed``.

Confirmation levels (see ../shared/clinical-reference.md, "Evidence tags"):

- ``confirmed``: read in the primary document or its publisher's / issuing body's record, with a DOI,
  PMID, PMCID or document id (tag [S]);
- ``secondary``: read only in a third-party summary, digest or mirror copy of the primary source
  (tag [S-2nd]);
- ``unverified``: not found in the stored material (tag [GK-verify]); a rule that rests on such a
  source is shown as *unverified* in every output until a clinician checks the primary document;
- ``local_policy``: a clinic's own operating choice, configurable, not a published guideline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


class Confirmation(StrEnum):
    """How firmly a source's content was confirmed before it was encoded."""

    CONFIRMED = "confirmed"
    SECONDARY = "secondary"
    UNVERIFIED = "unverified"
    LOCAL_POLICY = "local_policy"


# Document mirrors, content farms, tertiary digests and search aggregators: where a fact may have been
# read, never the source of a rule or a patient-facing number.
LOW_GRADE_HOSTS = frozenset(
    {
        "1library.net",
        "78stepshealth.us",
        "booksci.cn",
        "c.coek.info",
        "docshare.tips",
        "docslib.org",
        "doczz.net",
        "gighz.com",
        "mafiadoc.com",
        "manualmachine.com",
        "paperexplained.cn",
        "paperzz.com",
        "pdfcoffee.com",
        "pogoe.org",
        "scribd.com",
        "studylib.net",
        "verity.backworkai.com",
        "virwiki.com",
    }
)
NO_PRIMARY_IDENTIFIER = "vertebro:primary-identifier-not-confirmed"
_PMC = re.compile(r"/pmc/articles/(PMC\d+)", re.IGNORECASE)


def host_of(locator: str) -> str | None:
    """Return the host of a URL locator without a leading ``www.``, or None for a DOI or vertebro: id."""
    if not locator.startswith(("http://", "https://")):
        return None
    host = urlsplit(locator).hostname or ""
    return host.removeprefix("www.")


def low_grade(locator: str) -> bool:
    """Return True when a locator points at a low-grade host (a mirror, digest or content farm)."""
    host = host_of(locator)
    return host is not None and any(host == h or host.endswith("." + h) for h in LOW_GRADE_HOSTS)


@dataclass(frozen=True, slots=True)
class Source:
    """One citable source: who said it, where it is published, and how firmly we confirmed it.

    ``locator`` is the primary document: ``doi:...``, the publisher's or issuing body's URL, or a
    ``vertebro:`` id when the primary identifier is not confirmed. ``read_at`` is the page the content
    was actually read on when that is not the primary document.
    """

    id: str
    citation: str
    locator: str
    year: int | None
    confirmation: Confirmation
    pmid: str | None = None
    document_id: str | None = None
    read_at: str | None = None

    @property
    def doi(self) -> str | None:
        """The DOI, when the locator is one."""
        return self.locator.removeprefix("doi:") if self.locator.startswith("doi:") else None

    @property
    def public_locator(self) -> str:
        """The locator as shown to readers: empty when only a ``vertebro:`` placeholder is held."""
        return "" if self.locator.startswith("vertebro:") else self.locator

    @property
    def identifier(self) -> str | None:
        """The primary identifier: DOI, PMID, PMCID or the issuing body's document id, when held."""
        if self.doi:
            return f"doi:{self.doi}"
        if self.pmid:
            return f"PMID {self.pmid}"
        match = _PMC.search(self.locator)
        if match:
            return match.group(1).upper()
        return self.document_id


_S = Confirmation.CONFIRMED
_S2 = Confirmation.SECONDARY
_GK = Confirmation.UNVERIFIED
_LOCAL = Confirmation.LOCAL_POLICY

SOURCES: dict[str, Source] = {
    s.id: s
    for s in (
        Source(
            "acr-vcf-2018",
            "Shah LM, Jennings JW, Kirsch CFE, et al. ACR Appropriateness Criteria: Management of Vertebral "
            "Compression Fractures, revised 2018 (variants 1-3; abstract: most fractures improve over 2-12 "
            "weeks). Journal, volume, pages, DOI and PMID not confirmed",
            "https://acsearch.acr.org/list",
            2018,
            _S2,
            document_id="ACR Appropriateness Criteria: Management of Vertebral Compression Fractures (revised 2018)",
            read_at="https://docslib.org/download/4714486/management-of-vertebral-compression-fractures "
            "(copy of the variant tables); https://scholars.uab.edu/display/pub2282779 (abstract)",
        ),
        Source(
            "acr-vcf-2022",
            "Khan MA, Jennings JW, Baker JC, Smolock AR, Shah LM, Pinchot JW, et al. ACR Appropriateness "
            "Criteria: Management of Vertebral Compression Fractures: 2022 Update. J Am Coll Radiol "
            "2023;20(5 Suppl):S102-S124",
            "doi:10.1016/j.jacr.2023.02.015",
            2023,
            _S2,
            read_at="ratings restated by third-party articles (gighz.com)",
        ),
        Source(
            "nice-ta279",
            "National Institute for Health and Care Excellence. Percutaneous vertebroplasty and percutaneous "
            "balloon kyphoplasty for treating osteoporotic vertebral compression fractures. Technology "
            "appraisal guidance TA279. London: NICE; April 2013",
            "https://www.nice.org.uk/guidance/ta279",
            2013,
            _S,
            document_id="NICE TA279",
        ),
        Source(
            "cms-lcd-pva",
            "Centers for Medicare & Medicaid Services, Local Coverage Determinations: Percutaneous Vertebral "
            "Augmentation (PVA) for (Osteoporotic) Vertebral Compression Fracture: L33569 (National Government "
            "Services), L34228, L34106, L38201, L34976, L38737 (Palmetto GBA), L38213",
            "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=34976",
            2021,
            _S2,
            document_id="CMS LCD L33569, L34228, L34106, L38201, L34976, L38737, L38213",
            read_at="criteria read in third-party summaries (verity.backworkai.com/policy/L33569 and others); "
            "cms.gov headers only",
        ),
        Source(
            "cms-lcd-l38213",
            "Centers for Medicare & Medicaid Services, Local Coverage Determination L38213: Percutaneous "
            "Vertebral Augmentation (lists pregnancy as a relative contraindication)",
            "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=38213",
            2021,
            _S2,
            document_id="CMS LCD L38213",
            read_at="third-party summary (verity.backworkai.com/policy/L38213)",
        ),
        Source(
            "nass-auc-osteoporotic",
            "Cho C, Hills J, Anderson P, Annaswamy T, Cassidy RC, Craig C, et al. Appropriate use criteria for "
            "osteoporotic compression fractures (North American Spine Society; 144 scenarios). Spine J 2025 "
            "(published online 4 March 2025)",
            "doi:10.1016/j.spinee.2025.02.007",
            2025,
            _S,
            read_at="https://north-american-spine-society.foleon.com/ebooks-research/"
            "osteoporotic-vertebral-fractures-auc/results (NASS e-book)",
        ),
        Source(
            "nass-auc-neoplastic",
            "Appropriate use criteria for neoplastic compression fractures (North American Spine Society). "
            "Spine J 2025 (e-pub 13 January 2025); authors not confirmed",
            "doi:10.1016/j.spinee.2024.12.028",
            2025,
            _S,
            pmid="39814207",
            read_at="https://north-american-spine-society.foleon.com/ebooks-research/"
            "neoplastic-vertebral-fractures-auc/results (NASS e-book)",
        ),
        Source(
            "asra-2018",
            "Narouze S, Benzon HT, Provenzano D, Buvanendran A, De Andres J, Deer T, Rauck R, Huntoon MA. "
            "Interventional spine and pain procedures in patients on antiplatelet and anticoagulant medications "
            "(second edition): ASRA/ESRA/AAPM/INS/NANS/WIP guidelines. Reg Anesth Pain Med 2018;43(3):225-262",
            "doi:10.1097/AAP.0000000000000700",
            2018,
            _S2,
            read_at="high-risk hold table as adapted by UpToDate",
        ),
        Source(
            "asra-2018-unconfirmed-rows",
            "Narouze S, et al. Reg Anesth Pain Med 2018;43(3):225-262: P2Y12-inhibitor, DOAC and "
            "fondaparinux rows (not retrieved; five half-lives principle confirmed)",
            "doi:10.1097/AAP.0000000000000700",
            2018,
            _GK,
        ),
        Source(
            "pause-2019",
            "Douketis JD, Spyropoulos AC, Duncan J, Carrier M, Le Gal G, Tafur AJ, et al. Perioperative "
            "management of patients with atrial fibrillation receiving a direct oral anticoagulant (PAUSE). "
            "JAMA Intern Med 2019;179(11):1469-1478",
            "doi:10.1001/jamainternmed.2019.2431",
            2019,
            _S2,
            pmid="31380891",
            read_at="http://ashpublications.net/view-large/10385793 (protocol table)",
        ),
        Source(
            "sir-2019",
            "Society of Interventional Radiology consensus guidelines for the periprocedural management of "
            "thrombotic and bleeding risk in patients undergoing percutaneous image-guided interventions "
            "(released August 2019; Patel IJ, et al., J Vasc Interv Radiol 2019;30:1168-1184; journal details "
            "not yet checked)",
            "https://www.guidelinecentral.com/guideline/18887",
            2019,
            _S2,
            document_id="SIR consensus guidelines, periprocedural thrombotic and bleeding risk (2019)",
            read_at="https://reference.medscape.com/viewarticle/917397 (news summary of the thresholds)",
        ),
        Source(
            "sir-qi-2014-failure",
            "Society of Interventional Radiology quality-improvement guidelines for percutaneous vertebral "
            "augmentation (2014): definition of failure of medical therapy (primary citation not confirmed)",
            NO_PRIMARY_IDENTIFIER,
            2014,
            _S2,
            read_at="https://www.bcbsnd.com/providers/policies-precertification/medical-policy/p/"
            "percutaneous-balloon-kyphoplasty-radiofrequency-kyphoplasty-and-mechanical-vertebral-augmentation "
            "(quoted in a payer policy)",
        ),
        Source(
            "asa-fasting-2017",
            "American Society of Anesthesiologists Task Force on Preoperative Fasting. Practice guidelines for "
            "preoperative fasting and the use of pharmacologic agents to reduce the risk of pulmonary "
            "aspiration: an updated report. Anesthesiology 2017;126(3):376-393",
            "doi:10.1097/ALN.0000000000001452",
            2017,
            _S,
            read_at="https://anesthesiology.pubs.asahq.org/article.aspx?articleid=2596245",
        ),
        Source(
            "asa-sedation-2018",
            "American Society of Anesthesiologists. Practice guidelines for moderate procedural "
            "sedation and analgesia 2018. Anesthesiology 2018;128:437-479 (discharge to a responsible "
            "adult)",
            "doi:10.1097/ALN.0000000000002043",
            2018,
            _GK,
        ),
        Source(
            "genant-1993",
            "Genant HK, Wu CY, van Kuijk C, Nevitt MC. Vertebral fracture assessment using a semiquantitative "
            "technique. J Bone Miner Res 1993;8(9):1137-1148 (pages, DOI and PMID not confirmed)",
            NO_PRIMARY_IDENTIFIER,
            1993,
            _S2,
            read_at="doi:10.21037/qims.2019.02.04 (restated by Wang YXJ, Quant Imaging Med Surg 2019)",
        ),
        Source(
            "qm-morphometry",
            "Quantitative vertebral morphometry: six-point heights and EPOS-style wedge, biconcavity "
            "and crush ratios (Chou SH, Vokes T, J Clin Densitom 2015; EPOS); DOI and PMID not confirmed",
            NO_PRIMARY_IDENTIFIER,
            2015,
            _S2,
            read_at="https://www.ndorms.ox.ac.uk/publications/125986/",
        ),
        Source(
            "morphometry-reference-choice",
            "Reference height for percent height loss: mean of the corresponding height of the nearest "
            "normal vertebrae above and below; vertebra plana cut-off (~70 % loss)",
            NO_PRIMARY_IDENTIFIER,
            None,
            _GK,
            read_at="https://c.coek.info/pdf-vertebral-morphometry-.html",
        ),
        Source(
            "hirsch-2018",
            "Hirsch JA, Beall DP, Chambers MR, Andreshak TG, Brook AL, Bruel BM, et al. Management of vertebral "
            "fragility fractures: a clinical care pathway developed by a multispecialty panel using the "
            "RAND/UCLA Appropriateness Method. Spine J 2018;18(11):2152-2161",
            "doi:10.1016/j.spinee.2018.07.025",
            2018,
            _S2,
            pmid="30096377",
            read_at="details from the sponsor's (Medtronic) summaries of the pathway",
        ),
        Source(
            "cirse-2017",
            "Tsoumakidou G, Too CW, Koch G, Caudrelier J, Cazzato RL, Garnon J, Gangi A. CIRSE guidelines on "
            "percutaneous vertebral augmentation. Cardiovasc Intervent Radiol 2017;40(3):331-342 "
            "(contraindication lists not retrieved)",
            "doi:10.1007/s00270-017-1574-8",
            2017,
            _GK,
        ),
        Source(
            "european-rand-2013",
            "European RAND/UCLA panel on the treatment of vertebral fragility fractures. Pain Physician "
            "2013;16:E519-E530 (authors not confirmed)",
            "https://pubmed.ncbi.nlm.nih.gov/24077202/",
            2013,
            _S,
            pmid="24077202",
        ),
        Source(
            "papanastassiou-2012",
            "Papanastassiou ID, et al. Comparing effects of kyphoplasty, vertebroplasty, and "
            "non-surgical management in a systematic review of randomized and non-randomized "
            "controlled studies. Eur Spine J 2012",
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3459114/",
            2012,
            _S,
        ),
        Source(
            "leak-meta-2017",
            "Risk factors for cement leakage after vertebroplasty or kyphoplasty: a meta-analysis of published "
            "evidence (22 studies). World Neurosurg 2017;101:633-642 (authors not confirmed)",
            "doi:10.1016/j.wneu.2017.01.124",
            2017,
            _S,
            pmid="28192270",
        ),
        Source(
            "vp-kp-choice-synthesis",
            "Synthesis of when kyphoplasty or vertebroplasty is preferred (height restoration goal, "
            "kyphosis, leak risk versus cost and speed); clinical-reference.md section 3",
            "vertebro:clinical-reference/3-vp-vs-kp",
            None,
            _GK,
        ),
        Source(
            "levels-pce-2021",
            "Pulmonary cement embolism risk by number of treated vertebrae (2,344 patients; OR 2.41 "
            "for 3 or more). J Orthop Surg Res 2021",
            "doi:10.1186/s13018-021-02472-9",
            2021,
            _S,
            read_at="https://josr-online.biomedcentral.com/articles/10.1186/s13018-021-02472-9",
        ),
        Source(
            "evicore-cmm607",
            "eviCore healthcare. Clinical guidelines, musculoskeletal: CMM-607 Primary vertebral augmentation "
            "(percutaneous vertebroplasty/kyphoplasty) and sacroplasty (imaging within 6 months, 4 weeks of "
            "failed analgesia, T5-L5, at most 2 levels)",
            "https://www.evicore.com/provider/clinical-guidelines",
            None,
            _S2,
            document_id="eviCore CMM-607",
            read_at="third-party summary (verity.backworkai.com/policy/EVICORE-MSK_ADVANCED-9C96FCE2)",
        ),
        Source(
            "vapour-2016",
            "Clark W, Bird P, Gonski P, Diamond TH, Smerdely P, McNeil HP, et al. Safety and efficacy of "
            "vertebroplasty for acute painful osteoporotic fractures (VAPOUR): a multicentre, randomised, "
            "double-blind, placebo-controlled trial. Lancet 2016;388(10052):1408-1416",
            "doi:10.1016/S0140-6736(16)31341-1",
            2016,
            _S,
            read_at="https://www.cns.org/news-advocacy/neurosurgery-watch/"
            "vapour-randomized-controlled-study-vertebroplasty-acute-painful",
        ),
        Source(
            "serlin-1995",
            "Serlin RC, Mendoza TR, Nakamura Y, Edwards KR, Cleeland CS. When is cancer pain mild, moderate or "
            "severe? Grading pain severity by its interference with function. Pain 1995;61:277-284 (NRS 1-4 "
            "mild, 5-6 moderate, 7-10 severe)",
            "doi:10.1016/0304-3959(94)00178-H",
            1995,
            _S,
            read_at="abstract on scilit.com; citation as given in Paul SM et al., Pain 2005;113:37-44",
        ),
        Source(
            "acr-spr-pregnancy",
            "ACR-SPR practice parameter for imaging pregnant or potentially pregnant patients with "
            "ionizing radiation (screening of people of child-bearing potential, about 12-50 years)",
            "https://www.acr.org/-/media/ACR/Files/Practice-Parameters/Pregnant-Pts.pdf",
            None,
            _GK,
        ),
        Source(
            "acr-contrast-manual",
            "ACR Manual on Contrast Media: premedication for prior reaction to iodinated contrast",
            "https://www.acr.org/Clinical-Resources/Contrast-Manual",
            None,
            _GK,
        ),
        Source(
            "kyphon-hvr-ifu",
            "Medtronic. Kyphon HV-R bone cement, instructions for use (about 30 % barium sulfate "
            "opacifier; 20 g powder + 9.0 g liquid); document number not confirmed",
            NO_PRIMARY_IDENTIFIER,
            None,
            _S2,
            document_id="Medtronic Kyphon HV-R bone cement instructions for use",
            read_at="https://manualmachine.com/medtronic/c01b/26720860-instructions-for-use (copy)",
        ),
        Source(
            "palacos-ifu",
            "Heraeus Medical. PALACOS bone cement: phases mixing, waiting, working, setting; mixing time 30 s "
            "(PALACADEMY mixing-technique course)",
            "https://www.heraeus.com/en/hme/palacademy_heraeus_medical/elearning/"
            "mixing_technique_course/phases_working.html",
            None,
            _S,
            document_id="Heraeus Medical PALACADEMY, mixing technique course: phases",
        ),
        Source(
            "lai-2012",
            "Lai PL, et al. Chilled bone cement prolongs handling time for vertebroplasty. "
            "BMC Musculoskelet Disord 2012;13:198 (22 C: liquid 5.1 min, paste 3.4 min)",
            "https://pubmed.ncbi.nlm.nih.gov/23072273/",
            2012,
            _S,
            pmid="23072273",
        ),
        Source(
            "smartset-2015",
            "SmartSet HV setting time versus temperature: 534 s at 20 C, 381 s at 28 C",
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC4650370/",
            2015,
            _S,
        ),
        Source(
            "vp-cement-hardening-2011",
            "Medium-viscosity vertebroplasty cement hardens about 11 min after transfer to 37 C "
            "(ISRN / Hindawi archive article 571728; DOI not confirmed)",
            "https://www.hindawi.com/archive/2011/571728/abs/",
            2011,
            _S,
            document_id="Hindawi article 571728 (2011)",
        ),
        Source(
            "cement-ifu-tables",
            "Bone-cement instructions for use: working and setting time tables by product and room "
            "temperature (not captured; read the product's IFU before relying on times)",
            NO_PRIMARY_IDENTIFIER,
            None,
            _GK,
        ),
        Source(
            "dohm-2014",
            "Dohm M, et al. A randomized trial comparing balloon kyphoplasty and vertebroplasty "
            "(KAVIAR). AJNR Am J Neuroradiol 2014;35(12):2227-2236 (procedure time KP 40.0 vs VP 31.8 min)",
            "https://www.ajnr.org/content/35/12/2227",
            2014,
            _S,
            document_id="AJNR Am J Neuroradiol 35(12):2227",
        ),
        Source(
            "postop-orders",
            "Post-vertebroplasty orders: bed rest 1 h, vitals and lower-limb neuro checks every "
            "15 min for 1 h then every 30 min for 1 h; most patients home within 4-5 h (no primary "
            "publication identified)",
            NO_PRIMARY_IDENTIFIER,
            None,
            _GK,
            read_at="https://www.78stepshealth.us/vertebral-body/postoperative-care-snj.html (content farm)",
        ),
        Source(
            "medscape-bedrest",
            "Recumbent bed rest 1-2 h after vertebroplasty (Medscape reference answer; primary not identified)",
            NO_PRIMARY_IDENTIFIER,
            None,
            _S2,
            read_at="https://www.medscape.com/answers/1145447-196589/",
        ),
        Source(
            "discharge-criteria",
            "Sedation-recovery discharge criteria (Aldrete score of 9 or more, neuro exam at baseline, "
            "walking, pain not above baseline, tolerating oral intake)",
            NO_PRIMARY_IDENTIFIER,
            None,
            _GK,
            read_at="https://www.medscape.com/answers/1145447-196589/",
        ),
        Source(
            "baycare-discharge",
            "BayCare Health System (Krames). Discharge instructions for vertebroplasty (no driving 2 days, no "
            "lifting over 10 lb for 3 months, dressing 24-48 h, fever of 38 C or more, emergencies)",
            "https://baycare.org/health-library/health-encyclopedia/2015/02/04/05/57/"
            "discharge-instructions-for-vertebroplasty",
            2015,
            _S,
            document_id="BayCare Health Library: Discharge instructions for vertebroplasty",
        ),
        Source(
            "farrar-2001",
            "Farrar JT, et al. Clinical importance of changes in chronic pain intensity measured on an "
            "11-point numerical pain rating scale. Pain 2001;94:149-158",
            "https://pubmed.ncbi.nlm.nih.gov/11690728/",
            2001,
            _S,
            pmid="11690728",
        ),
        Source(
            "ostelo-2008",
            "Ostelo RW, Deyo RA, Stratford P, et al. Interpreting change scores for pain and functional status "
            "in low back pain: towards international consensus regarding minimal important change. "
            "Spine 2008;33(1):90-94 (DOI and PMID not confirmed)",
            NO_PRIMARY_IDENTIFIER,
            2008,
            _S2,
            read_at="https://paperexplained.cn/articles/paper/detail/c63b17f341638e994cd27cc6d09b4f05e220d5cc "
            "(abstract copy)",
        ),
        Source(
            "fairbank-2000",
            "Fairbank JC, Pynsent PB. The Oswestry Disability Index. Spine 2000;25:2940-2952 "
            "(10 sections scored 0-5; denominator reduced by 5 for each section not answered)",
            "doi:10.1097/00007632-200011150-00017",
            2000,
            _S,
        ),
        Source(
            "roland-fairbank-2000",
            "Roland M, Fairbank J. The Roland-Morris Disability Questionnaire and the Oswestry "
            "Disability Questionnaire. Spine 2000;25:3115-3124 (RDQ: 24 items, score 0-24; DOI not confirmed)",
            NO_PRIMARY_IDENTIFIER,
            2000,
            _S2,
            read_at="https://studylib.net/doc/5830226/--roland-morris-disability-questionnaire (manuscript copy)",
        ),
        Source(
            "rcp-news2-2017",
            "Royal College of Physicians. National Early Warning Score (NEWS) 2: standardising the assessment of "
            "acute-illness severity in the NHS. Updated report of a working party. London: RCP; 2017. "
            "ISBN 978-1-86016-682-2 (Chart 1, the scoring system; Chart 2, thresholds and triggers)",
            "https://www.rcplondon.ac.uk/projects/outputs/national-early-warning-score-news-2",
            2017,
            _S,
            document_id="Royal College of Physicians, NEWS2 (2017), ISBN 978-1-86016-682-2",
        ),
        Source(
            "sir-cirse-dose-2009",
            "Stecker MS, Balter S, Towbin RB, et al. Guidelines for patient radiation dose management "
            "(SIR Safety and Health Committee, CIRSE Standards of Practice Committee). J Vasc Interv Radiol "
            "2009;20(7 Suppl):S263-S273. PMID 19560006 (recommendation text not read in the stored copy)",
            "doi:10.1016/j.jvir.2009.04.037",
            2009,
            _GK,
        ),
        Source(
            "acr-va-practice-parameter-2017",
            "American College of Radiology. ACR-ASNR-ASSR-SIR-SNIS practice parameter for the performance of "
            "vertebral augmentation. Revised 2017 (Resolution 16). Reston (VA): ACR; 2017 (body text not read)",
            "https://www.acr.org/Clinical-Resources/Practice-Parameters-and-Technical-Standards",
            2017,
            _GK,
        ),
        Source(
            "local-policy",
            "This clinic's operating policy (configurable in vertebro settings; not a published guideline)",
            "vertebro:settings",
            None,
            _LOCAL,
        ),
        # Patient-education sources (issue 6): trials, reviews and series behind the numbers on the
        # education pages. Citations follow ../shared/clinical-reference.md "Primary citations".
        Source(
            "buchbinder-2009",
            "Buchbinder R, et al. A randomized trial of vertebroplasty for painful osteoporotic vertebral "
            "fractures. N Engl J Med 2009;361:557-568 (n = 78, vertebroplasty versus sham; pain fell 2.6 versus "
            "1.9 points at 3 months, adjusted difference 0.6, 95 % CI -0.7 to 1.8)",
            "doi:10.1056/NEJMoa0900429",
            2009,
            _S2,
            read_at="https://pogoe.org/recap/articles/19657121 (summary of the results)",
        ),
        Source(
            "kallmes-2009",
            "Kallmes DF, et al. A randomized trial of vertebroplasty for osteoporotic spinal fractures (INVEST). "
            "N Engl J Med 2009;361:569-579 (n = 131, vertebroplasty versus a local-anaesthetic control; no "
            "significant difference at 1 month; crossover at 3 months 43 % of controls versus 12 %)",
            "doi:10.1056/NEJMoa0900563",
            2009,
            _S,
            read_at="http://www.ajnr.org/highwire/markup/60958/expansion",
        ),
        Source(
            "vertos-ii-2010",
            "Klazen CA, et al. Vertebroplasty versus conservative treatment in acute osteoporotic vertebral "
            "compression fractures (Vertos II): an open-label randomised trial (n = 202). Lancet "
            "2010;376:1085-1092; new fractures: Klazen CAH, et al. AJNR Am J Neuroradiol 2010;31(8):1447 (15 of "
            "91 patients after vertebroplasty versus 21 of 85 after conservative care)",
            "doi:10.1016/S0140-6736(10)60954-3",
            2010,
            _S,
            pmid="20701962",
            read_at="https://www.ajnr.org/content/31/8/1447.full.txt",
        ),
        Source(
            "vertos-ii-natural-course",
            "Natural course of pain in the conservative arm of VERTOS II (95 patients): 60 % reached a pain "
            "score of 3 or less within a year, 40 % still had disabling pain at one year",
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7966424/",
            None,
            _S,
        ),
        Source(
            "vertos-iv-2018",
            "Firanescu CE, de Vries J, Lodder P, Venmans A, Schoemaker MC, Smeets AJ, et al. Vertebroplasty "
            "versus sham procedure for painful acute osteoporotic vertebral compression fractures (VERTOS IV): "
            "randomised sham controlled clinical trial (n = 180). BMJ 2018;361:k1551 (no significant "
            "difference at any time)",
            "doi:10.1136/bmj.k1551",
            2018,
            _S,
            read_at="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5941218/",
        ),
        Source(
            "free-2009",
            "Wardlaw D, Cummings SR, Van Meirhaeghe J, Bastian L, Tillman JB, Ranstam J, et al. Efficacy and "
            "safety of balloon kyphoplasty compared with non-surgical care for vertebral compression fracture "
            "(FREE): a randomised controlled trial (n = 300). Lancet 2009;373(9668):1016-1024",
            "doi:10.1016/S0140-6736(09)60010-6",
            2009,
            _S,
            read_at="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3678891/",
        ),
        Source(
            "cochrane-2018",
            "Buchbinder R, et al. Percutaneous vertebroplasty for osteoporotic vertebral compression fracture. "
            "Cochrane Database Syst Rev 2018, CD006349 (21 trials; high- to moderate-quality evidence of no "
            "clinically important benefit over a placebo procedure; included trials' inclusion criteria, e.g. "
            "VERTOS II: fracture at T5 or lower)",
            "doi:10.1002/14651858.CD006349.pub4",
            2018,
            _S,
            read_at="https://pmc.ncbi.nlm.nih.gov/articles/PMC6494647/ (.pub3, characteristics of studies)",
        ),
        Source(
            "multisociety-2014",
            "Barr JD, Jensen ME, Hirsch JA, McGraw JK, et al. Position statement on percutaneous vertebral "
            "augmentation (SIR, AANS, CNS, ACR, ASNR, ASSR, CIRA, SNIS). J Vasc Interv Radiol "
            "2014;25(2):171-181 (offered when non-operative care has not given adequate relief or pain "
            "significantly alters quality of life)",
            "doi:10.1016/j.jvir.2013.10.001",
            2014,
            _S,
            read_at="https://spinesection.org/about/position-statements/"
            "concensus-statement-on-vertebroplasty-and-kyphoplasty",
        ),
        Source(
            "pce-review-2012",
            "Wang LJ, et al. Pulmonary cement embolism associated with percutaneous vertebroplasty or "
            "kyphoplasty: a systematic review. Orthop Surg 2012;4:182-189 (reported incidence 2.1-26 %; "
            "mostly without symptoms)",
            "doi:10.1111/j.1757-7861.2012.00193.x",
            2012,
            _S,
        ),
        Source(
            "krueger-2009",
            "Krueger A, Bliemel C, Zettl R, Ruchholtz S. Management of pulmonary cement embolism after "
            "percutaneous vertebroplasty and kyphoplasty: a systematic review of the literature. Eur Spine J "
            "2009;18(9):1257-1265 (3.5-23 % in osteoporotic fractures)",
            "doi:10.1007/s00586-009-1073-y",
            2009,
            _S,
        ),
        Source(
            "leak-pattern-2019",
            "Risk factors of neurological deficit and pulmonary cement embolism after percutaneous "
            "vertebroplasty (3,175 patients; cement in the spinal canal 0.7 %, 4 of 26 needed surgery; "
            "embolism 0 %, 0.11 % and 0.9 % by cement volume). J Orthop Surg Res 2019",
            "doi:10.1186/s13018-019-1459-4",
            2019,
            _S,
            read_at="https://josr-online.biomedcentral.com/articles/10.1186/s13018-019-1459-4",
        ),
        Source(
            "al-ali-leaks",
            "Al-Ali F, Barrow T, Luke K. Vertebroplasty: what is important and what is not. AJNR Am J "
            "Neuroradiol (357 patients, 660 vertebrae; cement outside the bone at 33 % of levels, without "
            "clinical consequences); year, volume, DOI and PMID not confirmed",
            NO_PRIMARY_IDENTIFIER,
            None,
            _S2,
            read_at="https://1library.net/document/z3dlpeey-vertebroplasty-what-is-important-and-what-is-not.html "
            "(copy of the article)",
        ),
        Source(
            "bkp-registry-2012",
            "Balloon kyphoplasty registry, 372 patients: cement outside the vertebral body 40 %; one cardiac "
            "arrest; one severe fall in blood pressure on balloon inflation; 13 urinary infections",
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3395994/",
            None,
            _S,
        ),
        Source(
            "new-fracture-series-357",
            "Al-Ali F, Barrow T, Luke K. Vertebroplasty: what is important and what is not. AJNR Am J "
            "Neuroradiol (357 patients after vertebroplasty: adjacent fracture 12 %, any new fracture 18 % within "
            "one year); year, volume, DOI and PMID not confirmed",
            NO_PRIMARY_IDENTIFIER,
            None,
            _S2,
            read_at="https://1library.net/document/z3dlpeey-vertebroplasty-what-is-important-and-what-is-not.html "
            "(copy of the article)",
        ),
        Source(
            "va-overview-low-grade",
            "Overview of vertebral augmentation (tertiary wiki page, no primary publication identified): "
            "serious complications under 1 %; bone infection known from case reports",
            NO_PRIMARY_IDENTIFIER,
            None,
            _GK,
            read_at="https://virwiki.com/Vertebral_augmentation",
        ),
        Source(
            "beall-2018",
            "Beall DP, et al. Meta-analysis of vertebral augmentation outcomes (pain reduction: kyphoplasty "
            "4.05, vertebroplasty 3.88 points; no significant difference in height restoration). Int J Spine "
            "Surg 2018;12(3):295",
            "https://www.ijssurgery.com/content/12/3/295",
            2018,
            _S,
            document_id="Int J Spine Surg 12(3):295",
        ),
        Source(
            "us-hospital-cost-2011",
            "Mehio AK, et al. Comparative hospital economics and patient presentation: vertebroplasty and "
            "kyphoplasty for the treatment of vertebral compression fracture. AJNR 2011;32:1290-1294 (US "
            "Premier database 2007-2008: mean adjusted outpatient cost VP $2,997 vs KP $7,010; inpatient "
            "$11,386 vs $16,182)",
            "http://ajnr.org/content/32/7/1290",
            2011,
            _S,
            document_id="AJNR Am J Neuroradiol 32(7):1290",
        ),
        Source(
            "medicare-two-year-cost-2013",
            "Ong KL, et al. Two-year cost comparison of vertebroplasty and kyphoplasty for the treatment of "
            "vertebral compression fractures. Osteoporos Int 2013;24:1437-1445 (US Medicare 5 % sample "
            "2006-2009, payer costs in June 2011 US$: first quarter VP $14,585 vs KP $15,117; two years "
            "$44,496 vs $41,339)",
            "doi:10.1007/s00198-012-2100-0",
            2013,
            _S,
        ),
        Source(
            "vp-kp-meta-cost",
            "Meta-analysis comparing kyphoplasty and vertebroplasty: vertebroplasty better in the first week, "
            "kyphoplasty better function at about 3 months, no long-term difference; kyphoplasty costs more "
            "because of the balloon device",
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3167445/",
            None,
            _S,
        ),
        # Candidacy sources (issue 12).
        Source(
            "herath-2022",
            "Herath M, Cohen A, Ebeling PR, Milat F. Dilemmas in the management of osteoporosis in younger "
            "adults (premenopausal women and men under 50). JBMR Plus 2022;6(1):e10594",
            "doi:10.1002/jbm4.10594",
            2022,
            _S,
            pmid="35079682",
            read_at="https://pmc.ncbi.nlm.nih.gov/articles/PMC8771004",
        ),
        Source(
            "secondary-osteoporosis-2009",
            "Secondary osteoporosis in patients with an osteoporotic fracture (review: men and premenopausal "
            "women with a fragility fracture should be investigated for secondary osteoporosis). Best Pract "
            "Res Clin Rheumatol 2009;23(6):769-779 (authors not confirmed)",
            "doi:10.1016/j.berh.2009.09.006",
            2009,
            _S,
            pmid="19945688",
        ),
        # --- issue 12, "unknown is a value" and the allergy matcher ---
        Source(
            "snomed-ct-substances",
            "SNOMED International. SNOMED CT International Edition, November 2024 release notes, section 2.6.1 "
            "(contrast media substances: 385420005, 426722004 and their new iodinated and barium-based "
            "subtypes); the PMMA, barium sulfate, latex and 'no known allergy' codes read only in published "
            "value sets (DICOM PS3.16 CID 12, HL7 examples)",
            "https://www.snomed.org/",
            2024,
            _S2,
        ),
        # medication holds and the patient documents (issue 12, decision 0016)
        Source(
            "accp-2012-perioperative",
            "Douketis JD, Spyropoulos AC, Spencer FA, Mayr M, Jaffer AK, Eckman MH, Dunn AS, Kunz R. "
            "Perioperative management of antithrombotic therapy: Antithrombotic Therapy and Prevention of "
            "Thrombosis, 9th ed: American College of Chest Physicians Evidence-Based Clinical Practice "
            "Guidelines. Chest 2012;141(2 Suppl):e326S-e350S (abstract read in a copy; journal pages and DOI "
            "not checked)",
            "doi:10.1378/chest.11-2298",
            2012,
            _GK,
        ),
        # --- issue 16: radiation dose of the procedure (DICOM dose reports, reference levels, follow-up) ---
        Source(
            "ncrp-168-2010",
            "National Council on Radiation Protection and Measurements. Report No. 168: Radiation dose management "
            "for fluoroscopically-guided interventional medical procedures. Bethesda, MD: NCRP; 2010 (substantial "
            "radiation dose level: reference air kerma 5 Gy, kerma-area product 500 Gy cm2, fluoroscopy time 60 "
            "min; values not checked in the report here)",
            "vertebro:ncrp-report-168",
            2010,
            _GK,
            document_id="NCRP Report No. 168",
        ),
        Source(
            "asn-2019-dc-0667",
            "Autorite de surete nucleaire (France). Decision no 2019-DC-0667 of 18 April 2019 on the evaluation of "
            "patient doses and the diagnostic reference levels of radiology, image-guided interventions and nuclear "
            "medicine (homologated by the arrete of 23 May 2019, JORF 30 May 2019); the vertebroplasty entry of its "
            "interventional annex was not read here",
            "vertebro:asn-2019-dc-0667",
            2019,
            _GK,
            document_id="ASN 2019-DC-0667",
        ),
        # --- decision 0029: diagnostic reference levels for vertebral augmentation (no value read; see there) ---
        Source(
            "bfs-drw-2022",
            "Bundesamt fur Strahlenschutz (Germany). Announcement of the updated diagnostic reference levels for "
            "diagnostic and interventional X-ray applications of 17 November 2022 (replacing the announcements of "
            "22 June 2016 and 16 August 2018); table 6: interventional procedures in adults, kerma-area product. Its "
            "list of tables was read in a copy; table 6 (whether and how it lists vertebroplasty) was not read",
            "vertebro:bfs-drw-2022",
            2022,
            _GK,
            document_id="BfS DRW 17.11.2022",
            read_at="https://diebewertung.de/bekanntmachung-der-aktualisierten-diagnostischen-referenzwerte-fuer-"
            "diagnostische-und-interventionelle-roentgenanwendungen (list of tables only)",
        ),
        Source(
            "kien-irsn-2011",
            "Kien N, Rehel JL, Etard C, Aubert B. Dose patient en neuroradiologie interventionnelle: bilan d'une "
            "enquete multicentrique [Patient dose during interventional neuroradiology procedures: results from a "
            "multi-center study]. J Radiol 2011;92:1101-1112 (IRSN; nine French centres, seven procedure types "
            "including vertebroplasty; kerma-area product, fluoroscopy time and number of images; the abstract's "
            "opening was read in a mirror copy, its proposed reference levels were not)",
            "vertebro:kien-irsn-2011",
            2011,
            _GK,
            read_at="c.coek.info (abstract opening only)",
        ),
        Source(
            "miller-2009-us-rl",
            "Miller DL, Kwon D, Bonavia GH. Reference levels for patient radiation doses in interventional "
            "radiology: proposed initial values for U.S. practice. Radiology 2009;253(3):753-764 (from the RAD-IR "
            "study data; citation not found in the stored material and its table not read)",
            "vertebro:miller-2009-us-rl",
            2009,
            _GK,
        ),
        Source(
            "icrp-135-2017",
            "International Commission on Radiological Protection. ICRP Publication 135: Diagnostic reference levels "
            "in medical imaging. Ann ICRP 2017;46(1) (the 75th percentile of a survey's median doses as a DRL, local "
            "reference levels from a facility's own doses; text not read here)",
            "vertebro:icrp-135-2017",
            2017,
            _GK,
            document_id="ICRP Publication 135",
        ),
        Source(
            "dicom-ps3-16-tid10001",
            "NEMA. DICOM PS3.16 Content Mapping Resource: TID 10001 Projection X-Ray Radiation Dose and TID 10011 CT "
            "Radiation Dose (the concept codes a dose report carries: 113722 dose area product total, 113725 dose "
            "(RP) total, 113730 total fluoro time, 113830 mean CTDIvol, 113838 DLP, 113813 CT dose length product "
            "total)",
            "https://dicom.nema.org/medical/dicom/current/output/chtml/part16/chapter_A.html",
            2024,
            _S2,
            document_id="DICOM PS3.16",
        ),
    )
}


def source(source_id: str) -> Source:
    """Return the registered source with this id; an unknown id is a programming error."""
    try:
        return SOURCES[source_id]
    except KeyError:
        raise KeyError(f"unknown evidence source {source_id!r}") from None
