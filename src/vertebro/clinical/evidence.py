"""The evidence registry: every source a clinical rule or a patient-facing number may cite.

Each source says how firmly it was confirmed (see ../shared/clinical-reference.md, "Evidence tags"):

- ``confirmed``: read in the stored public material (tag [S]);
- ``secondary``: read only in a third-party summary of the primary source (tag [S-2nd]);
- ``unverified``: not found in the stored material (tag [GK-verify]); a rule that rests on such a
  source is shown as *unverified* in every output until a clinician checks the primary document;
- ``local_policy``: a clinic's own operating choice, configurable, not a published guideline.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Confirmation(StrEnum):
    """How firmly a source's content was confirmed before it was encoded."""

    CONFIRMED = "confirmed"
    SECONDARY = "secondary"
    UNVERIFIED = "unverified"
    LOCAL_POLICY = "local_policy"


@dataclass(frozen=True, slots=True)
class Source:
    """One citable source: who said it, where, when, and how firmly we confirmed it."""

    id: str
    citation: str
    locator: str  # a DOI (``doi:...``) or a URL
    year: int | None
    confirmation: Confirmation


_S = Confirmation.CONFIRMED
_S2 = Confirmation.SECONDARY
_GK = Confirmation.UNVERIFIED
_LOCAL = Confirmation.LOCAL_POLICY

SOURCES: dict[str, Source] = {
    s.id: s
    for s in (
        Source(
            "acr-vcf-2018",
            "ACR Appropriateness Criteria: Management of Vertebral Compression Fractures, 2018 revision (variants 1-3)",
            "https://docslib.org/download/4714486/management-of-vertebral-compression-fractures",
            2018,
            _S,
        ),
        Source(
            "acr-vcf-2022",
            "Khan MA, Jennings JW, et al. ACR Appropriateness Criteria: Management of Vertebral "
            "Compression Fractures, 2022 update. J Am Coll Radiol 2023;20(5S):S102-S124",
            "doi:10.1016/j.jacr.2023.02.015",
            2023,
            _S2,
        ),
        Source(
            "nice-ta279",
            "NICE Technology Appraisal TA279: Percutaneous vertebroplasty and percutaneous balloon "
            "kyphoplasty for treating osteoporotic vertebral compression fractures (April 2013)",
            "https://www.nice.org.uk/guidance/ta279",
            2013,
            _S,
        ),
        Source(
            "cms-lcd-pva",
            "CMS Local Coverage Determinations, Percutaneous Vertebral Augmentation for Vertebral "
            "Compression Fracture: L33569 family (L34228, L34106, L38201, L34976, L38737, L38213)",
            "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=33569",
            2021,
            _S2,
        ),
        Source(
            "cms-lcd-l38213",
            "CMS LCD L38213, Percutaneous Vertebral Augmentation (lists pregnancy as a relative contraindication)",
            "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=38213",
            2021,
            _S2,
        ),
        Source(
            "nass-auc-osteoporotic",
            "North American Spine Society Appropriate Use Criteria: Osteoporotic Vertebral Fractures (144 scenarios)",
            "https://north-american-spine-society.foleon.com/ebooks-research/"
            "osteoporotic-vertebral-fractures-auc/results",
            None,
            _S,
        ),
        Source(
            "nass-auc-neoplastic",
            "North American Spine Society Appropriate Use Criteria: Neoplastic Vertebral Fractures",
            "https://north-american-spine-society.foleon.com/ebooks-research/"
            "neoplastic-vertebral-fractures-auc/results",
            None,
            _S,
        ),
        Source(
            "asra-2018",
            "Narouze S, et al. Interventional spine and pain procedures in patients on antiplatelet and "
            "anticoagulant medications (2nd ed.): ASRA/ESRA/AAPM/INS/NANS/WIP guidelines. Reg Anesth "
            "Pain Med 2018;43:225-262 (high-risk hold table as adapted by UpToDate)",
            "doi:10.1097/AAP.0000000000000700",
            2018,
            _S2,
        ),
        Source(
            "asra-2018-unconfirmed-rows",
            "Narouze S, et al. Reg Anesth Pain Med 2018;43:225-262: P2Y12-inhibitor, DOAC and "
            "fondaparinux rows (not retrieved; five half-lives principle confirmed)",
            "doi:10.1097/AAP.0000000000000700",
            2018,
            _GK,
        ),
        Source(
            "pause-2019",
            "Douketis JD, et al. Perioperative management of patients with atrial fibrillation "
            "receiving a direct oral anticoagulant (PAUSE). JAMA Intern Med 2019;179:1469-1478",
            "http://ashpublications.net/view-large/10385793",
            2019,
            _S2,
        ),
        Source(
            "sir-2019",
            "Patel IJ, et al. Society of Interventional Radiology consensus guidelines for the "
            "periprocedural management of thrombotic and bleeding risk. J Vasc Interv Radiol "
            "2019;30:1168-1184.e1",
            "https://reference.medscape.com/viewarticle/917397",
            2019,
            _S2,
        ),
        Source(
            "sir-qi-2014-failure",
            "SIR quality-improvement guidelines for percutaneous vertebral augmentation (2014): "
            "definition of failure of medical therapy, as quoted in BCBS-ND policy",
            "https://www.bcbsnd.com/providers/policies-precertification/medical-policy/p/"
            "percutaneous-balloon-kyphoplasty-radiofrequency-kyphoplasty-and-mechanical-vertebral-augmentation",
            2014,
            _S2,
        ),
        Source(
            "asa-fasting-2017",
            "American Society of Anesthesiologists. Practice guidelines for preoperative fasting. "
            "Anesthesiology 2017;126:376-393",
            "https://anesthesiology.pubs.asahq.org/article.aspx?articleid=2596245",
            2017,
            _S,
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
            "Genant HK, et al. Vertebral fracture assessment using a semiquantitative technique. "
            "J Bone Miner Res 1993;8:1137-1148, as restated by Wang YXJ, Quant Imaging Med Surg 2019",
            "doi:10.21037/qims.2019.02.04",
            1993,
            _S,
        ),
        Source(
            "qm-morphometry",
            "Quantitative vertebral morphometry: six-point heights and EPOS-style wedge, biconcavity "
            "and crush ratios (Chou & Vokes, J Clin Densitom 2015; EPOS)",
            "https://www.ndorms.ox.ac.uk/publications/125986/",
            2015,
            _S,
        ),
        Source(
            "morphometry-reference-choice",
            "Reference height for percent height loss: mean of the corresponding height of the nearest "
            "normal vertebrae above and below; vertebra plana cut-off (~70 % loss)",
            "https://c.coek.info/pdf-vertebral-morphometry-.html",
            None,
            _GK,
        ),
        Source(
            "hirsch-2018",
            "Hirsch JA, Beall DP, et al. Management of vertebral fragility fractures: a clinical care "
            "pathway developed by a multispecialty panel using the RAND/UCLA Appropriateness Method. "
            "Spine J 2018;18:2152-2161",
            "doi:10.1016/j.spinee.2018.07.025",
            2018,
            _S2,
        ),
        Source(
            "cirse-2017",
            "Tsoumakidou G, et al. CIRSE guidelines on percutaneous vertebral augmentation. "
            "Cardiovasc Intervent Radiol 2017;40:331-342 (contraindication lists not retrieved)",
            "doi:10.1007/s00270-017-1574-8",
            2017,
            _GK,
        ),
        Source(
            "european-rand-2013",
            "European RAND/UCLA panel on vertebral fragility fractures. Pain Physician 2013;16:E519-E530",
            "https://www.ncbi.nlm.nih.gov/pubmed/24077202",
            2013,
            _S,
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
            "Cement leakage in percutaneous vertebral augmentation: meta-analysis (22 studies). "
            "World Neurosurg 2017;101:633",
            "https://pubmed.ncbi.nlm.nih.gov/28192270/",
            2017,
            _S,
        ),
        Source(
            "vp-kp-choice-synthesis",
            "Synthesis of when kyphoplasty or vertebroplasty is preferred (height restoration goal, "
            "kyphosis, leak risk versus cost and speed); clinical-reference.md section 3",
            "https://www.ajnr.org/content/35/12/2227",
            None,
            _GK,
        ),
        Source(
            "levels-pce-2021",
            "Pulmonary cement embolism risk by number of treated vertebrae (2,344 patients; OR 2.41 "
            "for 3 or more). J Orthop Surg Res 2021",
            "https://josr-online.biomedcentral.com/articles/10.1186/s13018-021-02472-9",
            2021,
            _S,
        ),
        Source(
            "evicore-cmm607",
            "eviCore CMM-607 Vertebral augmentation (imaging within 6 months, 4 weeks of failed "
            "analgesia, T5-L5, at most 2 levels)",
            "https://verity.backworkai.com/policy/EVICORE-MSK_ADVANCED-9C96FCE2",
            None,
            _S2,
        ),
        Source(
            "vapour-2016",
            "Clark W, et al. Safety and efficacy of vertebroplasty for acute painful osteoporotic "
            "fractures (VAPOUR). Lancet 2016;388:1408-1416",
            "https://www.cns.org/news-advocacy/neurosurgery-watch/"
            "vapour-randomized-controlled-study-vertebroplasty-acute-painful",
            2016,
            _S,
        ),
        Source(
            "serlin-1995",
            "Serlin RC, et al. When is cancer pain mild, moderate or severe? Grading pain severity by "
            "its interference with function. Pain 1995;61:277-284 (NRS 7-10 = severe)",
            "doi:10.1016/0304-3959(94)00178-H",
            1995,
            _GK,
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
            "Medtronic Kyphon HV-R bone cement instructions for use (about 30 % barium sulfate "
            "opacifier; 20 g powder + 9.0 g liquid)",
            "https://manualmachine.com/medtronic/c01b/26720860-instructions-for-use",
            None,
            _S,
        ),
        Source(
            "palacos-ifu",
            "Heraeus PALACOS bone cement instructions: phases mixing, waiting, working, setting; mixing time 30 s",
            "https://www.heraeus.com/en/hme/palacademy_heraeus_medical/elearning/"
            "mixing_technique_course/phases_working.html",
            None,
            _S,
        ),
        Source(
            "lai-2012",
            "Lai PL, et al. Chilled bone cement prolongs handling time for vertebroplasty. "
            "BMC Musculoskelet Disord 2012;13:198 (22 C: liquid 5.1 min, paste 3.4 min)",
            "https://www.ncbi.nlm.nih.gov/pubmed/23072273",
            2012,
            _S,
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
            "Medium-viscosity vertebroplasty cement hardens about 11 min after transfer to 37 C",
            "https://www.hindawi.com/archive/2011/571728/abs/",
            2011,
            _S,
        ),
        Source(
            "cement-ifu-tables",
            "Bone-cement instructions for use: working and setting time tables by product and room "
            "temperature (not captured; read the product's IFU before relying on times)",
            "https://manualmachine.com/medtronic/c01b/26720860-instructions-for-use",
            None,
            _GK,
        ),
        Source(
            "dohm-2014",
            "Dohm M, et al. A randomized trial comparing balloon kyphoplasty and vertebroplasty "
            "(KAVIAR). AJNR 2014;35:2227-2236 (procedure time KP 40.0 vs VP 31.8 min)",
            "https://www.ajnr.org/content/35/12/2227",
            2014,
            _S,
        ),
        Source(
            "postop-orders",
            "Sample post-vertebroplasty orders: bed rest 1 h, vitals and lower-limb neuro checks every "
            "15 min for 1 h then every 30 min for 1 h; most patients home within 4-5 h",
            "https://www.78stepshealth.us/vertebral-body/postoperative-care-snj.html",
            None,
            _S,
        ),
        Source(
            "medscape-bedrest",
            "Medscape: recumbent bed rest 1-2 h after vertebroplasty",
            "https://www.medscape.com/answers/1145447-196589/",
            None,
            _S,
        ),
        Source(
            "discharge-criteria",
            "Sedation-recovery discharge criteria (Aldrete score of 9 or more, neuro exam at baseline, "
            "walking, pain not above baseline, tolerating oral intake)",
            "https://www.medscape.com/answers/1145447-196589/",
            None,
            _GK,
        ),
        Source(
            "baycare-discharge",
            "BayCare/Krames discharge instructions for vertebroplasty (no driving 2 days, no lifting "
            "over 10 lb for 3 months, dressing 24-48 h, fever of 38 C or more, emergencies)",
            "https://baycare.org/health-library/health-encyclopedia/2015/02/04/05/57/"
            "discharge-instructions-for-vertebroplasty",
            2015,
            _S,
        ),
        Source(
            "farrar-2001",
            "Farrar JT, et al. Clinical importance of changes in chronic pain intensity measured on an "
            "11-point numerical pain rating scale. Pain 2001;94:149-158",
            "https://pubmed.ncbi.nlm.nih.gov/11690728/",
            2001,
            _S,
        ),
        Source(
            "ostelo-2008",
            "Ostelo RW, et al. Interpreting change scores for pain and functional status in low back "
            "pain: towards international consensus regarding minimal important change. "
            "Spine 2008;33:90-94",
            "https://paperexplained.cn/articles/paper/detail/c63b17f341638e994cd27cc6d09b4f05e220d5cc",
            2008,
            _S,
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
            "Disability Questionnaire. Spine 2000;25:3115-3124 (RDQ: 24 items, score 0-24)",
            "https://studylib.net/doc/5830226/--roland-morris-disability-questionnaire",
            2000,
            _S,
        ),
        Source(
            "local-policy",
            "This clinic's operating policy (configurable in vertebro settings; not a published guideline)",
            "vertebro:settings",
            None,
            _LOCAL,
        ),
        # Patient-education sources (issue 6): trials, reviews and series behind the numbers on the
        # education pages. Confirmation tags follow ../shared/clinical-reference.md sections 3 and 6.
        Source(
            "buchbinder-2009",
            "Buchbinder R, et al. A randomized trial of vertebroplasty for painful osteoporotic vertebral "
            "fractures. N Engl J Med 2009;361:557-568 (n = 78, vertebroplasty versus sham; pain fell 2.6 versus "
            "1.9 points at 3 months, adjusted difference 0.6, 95 % CI -0.7 to 1.8)",
            "https://pogoe.org/recap/articles/19657121",
            2009,
            _S,
        ),
        Source(
            "kallmes-2009",
            "Kallmes DF, et al. A randomized trial of vertebroplasty for osteoporotic spinal fractures (INVEST). "
            "N Engl J Med 2009;361:569-579 (n = 131, vertebroplasty versus a local-anaesthetic control; no "
            "significant difference at 1 month; crossover at 3 months 43 % of controls versus 12 %)",
            "http://www.ajnr.org/highwire/markup/60958/expansion",
            2009,
            _S,
        ),
        Source(
            "vertos-ii-2010",
            "Klazen CA, et al. Vertebroplasty versus conservative treatment in acute osteoporotic vertebral "
            "compression fractures (VERTOS II, open trial, n = 202). Lancet 2010;376:1085-1092; new fractures: "
            "AJNR 2010;31:1447 (15 of 91 patients after vertebroplasty versus 21 of 85 after conservative care)",
            "https://www.ajnr.org/content/31/8/1447.full.txt",
            2010,
            _S,
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
            "Firanescu CE, et al. Vertebroplasty versus sham procedure for painful acute osteoporotic vertebral "
            "compression fractures (VERTOS IV, n = 180). BMJ 2018;361:k1551 (no significant difference at any time)",
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5941218/",
            2018,
            _S,
        ),
        Source(
            "free-2009",
            "Wardlaw D, et al. Efficacy and safety of balloon kyphoplasty compared with non-surgical care for "
            "vertebral compression fracture (FREE, n = 300). Lancet 2009;373:1016-1024",
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3678891/",
            2009,
            _S,
        ),
        Source(
            "cochrane-2018",
            "Buchbinder R, et al. Percutaneous vertebroplasty for osteoporotic vertebral compression fracture. "
            "Cochrane Database Syst Rev 2018, CD006349 (21 trials; high- to moderate-quality evidence of no "
            "clinically important benefit over a placebo procedure)",
            "https://cochranelibrary.com/cdsr/doi/10.1002/14651858.CD006349.pub4/full",
            2018,
            _S,
        ),
        Source(
            "acr-vcf-2022-abstract",
            "ACR Appropriateness Criteria, Management of Vertebral Compression Fractures, 2022 update: abstract "
            "(most fractures improve over 2-12 weeks; augmentation associated with better pain relief and "
            "function than conservative therapy)",
            "https://scholars.uab.edu/display/pub2282779",
            2023,
            _S,
        ),
        Source(
            "multisociety-2014",
            "Barr JD, et al. Position statement on percutaneous vertebral augmentation (SIR, AANS, CNS, ACR, "
            "ASNR, ASSR, CIRA, SNIS). J Vasc Interv Radiol 2014;25:171-181 (offered when non-operative care has "
            "not given adequate relief or pain significantly alters quality of life)",
            "https://spinesection.org/about/position-statements/concensus-statement-on-vertebroplasty-and-kyphoplasty",
            2014,
            _S,
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
            "Krueger A, et al. Management of pulmonary cement embolism after percutaneous vertebroplasty and "
            "kyphoplasty: a systematic review of the literature. Eur Spine J 2009;18:1257-1265 (3.5-23 % in "
            "osteoporotic fractures)",
            "doi:10.1007/s00586-009-1073-y",
            2009,
            _S,
        ),
        Source(
            "leak-pattern-2019",
            "Risk factors of neurological deficit and pulmonary cement embolism after percutaneous "
            "vertebroplasty (3,175 patients; cement in the spinal canal 0.7 %, 4 of 26 needed surgery; "
            "embolism 0 %, 0.11 % and 0.9 % by cement volume). J Orthop Surg Res 2019",
            "https://josr-online.biomedcentral.com/articles/10.1186/s13018-019-1459-4",
            2019,
            _S,
        ),
        Source(
            "al-ali-leaks",
            "Al-Ali F, et al. Vertebroplasty: what is important and what is not (660 vertebrae; cement outside "
            "the bone at 33 % of levels, without clinical consequences)",
            "https://1library.net/document/z3dlpeey-vertebroplasty-what-is-important-and-what-is-not.html",
            None,
            _S,
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
            "Case series of 357 patients after vertebroplasty: adjacent fracture 12 %, any new fracture 18 % within "
            "one year (clinical-reference.md §6.3; the primary publication is not named there)",
            "vertebro:clinical-reference/6.3-complications",
            None,
            _GK,
        ),
        Source(
            "va-overview-low-grade",
            "Vertebral augmentation overview (low-grade tertiary source): serious complications under 1 %; "
            "bone infection known from case reports",
            "https://virwiki.com/Vertebral_augmentation",
            None,
            _S,
        ),
        Source(
            "beall-2018",
            "Beall DP, et al. Meta-analysis of vertebral augmentation outcomes (pain reduction: kyphoplasty "
            "4.05, vertebroplasty 3.88 points; no significant difference in height restoration). Int J Spine "
            "Surg 2018;12(3):295",
            "https://www.ijssurgery.com/content/12/3/295.full.txt",
            2018,
            _S,
        ),
        Source(
            "us-hospital-cost-2011",
            "Mehio AK, et al. Comparative hospital economics and patient presentation: vertebroplasty and "
            "kyphoplasty for the treatment of vertebral compression fracture. AJNR 2011;32:1290-1294 (US "
            "Premier database 2007-2008: mean adjusted outpatient cost VP $2,997 vs KP $7,010; inpatient "
            "$11,386 vs $16,182)",
            "http://ajnr.org/content/32/7/1290.full",
            2011,
            _S,
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
    )
}


def source(source_id: str) -> Source:
    """Return the registered source with this id; an unknown id is a programming error."""
    try:
        return SOURCES[source_id]
    except KeyError:
        raise KeyError(f"unknown evidence source {source_id!r}") from None
