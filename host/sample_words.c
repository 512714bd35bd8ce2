/*
 * sample_words.c: word lists for the sample data generator (see
 * sample_words.h). Every company, product and domain name here is
 * invented. The person names are common given names and surnames of each
 * country, combined at random. Mail domains end in ".example", a name
 * reserved by RFC 2606, so no sample address can reach a real mailbox.
 */
#include "sample_words.h"

#define LIST(array)                                                       \
    {                                                                     \
        array, (uint32_t)(sizeof(array) / sizeof(array[0]))               \
    }

/* ---- The Netherlands ------------------------------------------------ */

static const char *const dutch_first_names[] = {
    "Jan",     "Pieter",  "Sanne",  "Anouk",   "Daan",   "Lotte",
    "Bram",    "Femke",   "Joris",  "Marloes", "Thijs",  "Eline",
    "Ruud",    "Ingrid",  "Wouter", "Noor",    "Zoë",    "Chloë",
    "Hélène",  "André",   "Sjoerd", "Maaike",  "Kees",   "Annelies",
};

static const char *const dutch_last_names[] = {
    "Jansen",      "Bakker",       "Visser",      "Smit",
    "Meijer",      "Mulder",       "Bos",         "Vos",
    "Peters",      "Hendriks",     "Dekker",      "Brouwer",
    "Kok",         "Willems",      "Hoekstra",    "de|Vries",
    "van den|Berg", "van|Dijk",    "van|Leeuwen", "van der|Wal",
    "van den|Heuvel", "van der|Veen", "de|Graaf", "de|Boer",
    "de|Haan",     "de|Wit",       "ter|Horst",   "van 't|Hof",
};

static const char *const dutch_streets[] = {
    "Kerkstraat",  "Dorpsstraat", "Stationsweg", "Molenweg",
    "Beukenlaan",  "Industrieweg", "Marktplein", "Julianastraat",
    "Havenkade",   "Prinsengracht",
};

static const char *const dutch_cities[] = {
    "Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen",
    "Zwolle",    "Den Haag",  "Leiden",  "Arnhem",    "Maastricht",
    "'s-Hertogenbosch",
};

static const char *const dutch_brand_words[] = {
    "Polder", "Zuidwal", "Duinzicht", "Lindeboom", "Waterland",
    "Kraanvogel", "Heideveld", "Brugzicht",
};

static const char *const dutch_trade_words[] = {
    "Bouw", "Installatietechniek", "Advies", "Logistiek", "Zorggroep",
    "Groothandel", "Accountants", "Media",
};

static const char *const dutch_legal_suffixes[] = {"B.V.", "B.V.", "N.V."};

/* ---- Norway --------------------------------------------------------- */

static const char *const norwegian_first_names[] = {
    "Ole",    "Kari",   "Ingrid", "Lars",    "Øyvind", "Bjørn",
    "Solveig", "Håkon", "Sigrid", "Eirik",   "Ragnhild", "Torstein",
    "Marit",  "Jørgen", "Synnøve", "Ørjan",
};

static const char *const norwegian_last_names[] = {
    "Hansen", "Johansen", "Olsen",   "Larsen", "Andersen", "Berg",
    "Haugen", "Bakke",    "Solberg", "Lie",    "Dahl",     "Ødegård",
    "Sæther", "Strand",   "Nygård",  "Løvås",
};

static const char *const norwegian_streets[] = {
    "Storgata", "Kirkegata", "Strandveien", "Skogveien",
    "Industriveien", "Sjøgata", "Parkveien",
};

static const char *const norwegian_cities[] = {
    "Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Drammen",
    "Ålesund",
};

static const char *const norwegian_brand_words[] = {
    "Nordlys", "Fjordvik", "Havbris", "Fjellheim", "Polarstjerne",
};

static const char *const norwegian_trade_words[] = {
    "Data", "Bygg", "Transport", "Rådgivning", "Helse", "Engros",
};

static const char *const norwegian_legal_suffixes[] = {"AS", "AS", "ASA"};

/* ---- Sweden --------------------------------------------------------- */

static const char *const swedish_first_names[] = {
    "Anna",   "Erik", "Karin", "Johan", "Åsa",   "Björn", "Maja", "Gustav",
    "Linnéa", "Oskar", "Ebba", "Måns",  "Sofia", "Per",   "Ylva", "Göran",
};

static const char *const swedish_last_names[] = {
    "Andersson", "Johansson", "Karlsson",  "Nilsson",  "Eriksson",
    "Larsson",   "Lindström", "Åberg",     "Öberg",    "Bergström",
    "Lindqvist", "Sjöberg",   "Holm",      "Ek",       "Forsberg",
    "Wikström",
};

static const char *const swedish_streets[] = {
    "Storgatan", "Kyrkogatan", "Industrivägen", "Skolgatan",
    "Strandvägen", "Järnvägsgatan",
};

static const char *const swedish_cities[] = {
    "Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro",
    "Linköping",
};

static const char *const swedish_brand_words[] = {
    "Skärgård", "Norrsken", "Granskog", "Älvdal", "Björkhaga",
};

static const char *const swedish_trade_words[] = {
    "Bygg", "Konsult", "Logistik", "Hälsa", "Partihandel", "Data",
};

static const char *const swedish_legal_suffixes[] = {"AB"};

/* ---- Denmark -------------------------------------------------------- */

static const char *const danish_first_names[] = {
    "Søren", "Mette", "Mads",   "Ida",     "Rasmus", "Freja",
    "Jens",  "Lærke", "Anders", "Kirsten", "Niels",  "Signe",
    "Frederik", "Birgitte", "Jesper", "Astrid",
};

static const char *const danish_last_names[] = {
    "Nielsen",      "Jensen",    "Hansen",      "Pedersen",
    "Sørensen",     "Rasmussen", "Christensen", "Kristensen",
    "Madsen",       "Møller",    "Østergaard",  "Jørgensen",
    "Lund",         "Thomsen",   "Bach",        "Kjær",
};

static const char *const danish_streets[] = {
    "Vestergade", "Østergade", "Nørregade", "Søndergade", "Industrivej",
    "Skovvej",
};

static const char *const danish_cities[] = {
    "København", "Aarhus", "Odense", "Aalborg", "Esbjerg", "Randers",
};

static const char *const danish_brand_words[] = {
    "Kattegat", "Bølgen", "Lyngby", "Strandhøj", "Havnelys",
};

static const char *const danish_trade_words[] = {
    "Rådgivning", "Byg", "Transport", "Handel", "Sundhed", "Data",
};

static const char *const danish_legal_suffixes[] = {"A/S", "ApS"};

/* ---- The United Kingdom --------------------------------------------- */

static const char *const english_first_names[] = {
    "James",   "Emma",  "Oliver", "Charlotte", "Thomas", "Sophie",
    "William", "Amelia", "Daniel", "Grace",    "Matthew", "Hannah",
    "Samuel",  "Lucy",  "Rhys",   "Siobhan",   "Priya",  "Aidan",
};

static const char *const english_last_names[] = {
    "Smith",  "Jones",  "Taylor", "Brown",   "Williams", "Wilson",
    "Evans",  "Thomas", "Roberts", "Walker", "Wright",   "Hughes",
    "Edwards", "Clarke", "O'Brien", "Patel", "Khan",     "Murphy",
};

static const char *const english_streets[] = {
    "High Street", "Station Road", "Church Lane", "Mill Road",
    "Victoria Street", "Park Avenue", "Queen's Road",
};

static const char *const english_cities[] = {
    "London", "Manchester", "Leeds", "Bristol", "Glasgow", "Cardiff",
    "York",
};

static const char *const english_brand_words[] = {
    "Brightwater", "Oakfield", "Kingsbridge", "Redmoor", "Ashcombe",
};

static const char *const english_trade_words[] = {
    "Logistics", "Consulting", "Engineering", "Health", "Retail",
    "Media",
};

static const char *const english_legal_suffixes[] = {"Ltd", "Ltd", "plc",
                                                     "LLP"};

/* ---- Germany -------------------------------------------------------- */

static const char *const german_first_names[] = {
    "Jürgen", "Anja",   "Matthias", "Katrin",  "Stefan", "Sabine",
    "Lukas",  "Lena",   "Jörg",     "Ute",     "Tobias", "Franziska",
    "Dieter", "Bärbel", "Maximilian", "Zoé",
};

static const char *const german_last_names[] = {
    "Müller",  "Schmidt", "Schneider", "Fischer", "Weber",   "Meyer",
    "Wagner",  "Becker",  "Schulz",    "Hoffmann", "Weiß",   "Strauß",
    "Groß",    "Köhler",  "Krüger",    "Schäfer", "Günther",
};

static const char *const german_streets[] = {
    "Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenweg",
    "Industriestraße", "Lindenallee", "Marktplatz",
};

static const char *const german_cities[] = {
    "Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main",
    "Düsseldorf", "Leipzig",
};

static const char *const german_brand_words[] = {
    "Rheinblick", "Tannenhof", "Elbufer", "Sonnenfeld", "Bergkamm",
};

static const char *const german_trade_words[] = {
    "Maschinenbau", "Logistik", "Beratung", "Großhandel", "Gesundheit",
    "Medien",
};

static const char *const german_legal_suffixes[] = {"GmbH", "GmbH", "AG",
                                                    "GmbH & Co. KG"};

/* ---- Countries ------------------------------------------------------ */

const struct sample_language sample_languages[] = {
    {"Netherlands", 35, LIST(dutch_first_names), LIST(dutch_last_names),
     LIST(dutch_streets), LIST(dutch_cities), LIST(dutch_brand_words),
     LIST(dutch_trade_words), LIST(dutch_legal_suffixes), "info",
     "#### @@", "+31 ## ### ####", "+31 6 ########", "########"},
    {"Norway", 12, LIST(norwegian_first_names), LIST(norwegian_last_names),
     LIST(norwegian_streets), LIST(norwegian_cities),
     LIST(norwegian_brand_words), LIST(norwegian_trade_words),
     LIST(norwegian_legal_suffixes), "post", "####", "+47 ## ## ## ##",
     "+47 4## ## ###", "9## ### ###"},
    {"Sweden", 10, LIST(swedish_first_names), LIST(swedish_last_names),
     LIST(swedish_streets), LIST(swedish_cities), LIST(swedish_brand_words),
     LIST(swedish_trade_words), LIST(swedish_legal_suffixes), "info",
     "### ##", "+46 8 ### ### ##", "+46 70 ### ## ##", "556###-####"},
    {"Denmark", 8, LIST(danish_first_names), LIST(danish_last_names),
     LIST(danish_streets), LIST(danish_cities), LIST(danish_brand_words),
     LIST(danish_trade_words), LIST(danish_legal_suffixes), "kontakt",
     "####", "+45 ## ## ## ##", "+45 ## ## ## ##", "########"},
    {"United Kingdom", 20, LIST(english_first_names),
     LIST(english_last_names), LIST(english_streets), LIST(english_cities),
     LIST(english_brand_words), LIST(english_trade_words),
     LIST(english_legal_suffixes), "enquiries", "@@# #@@",
     "+44 20 #### ####", "+44 7### ######", "########"},
    {"Germany", 15, LIST(german_first_names), LIST(german_last_names),
     LIST(german_streets), LIST(german_cities), LIST(german_brand_words),
     LIST(german_trade_words), LIST(german_legal_suffixes), "kontakt",
     "#####", "+49 ## ########", "+49 15# ########", "HRB #####"},
};

const uint32_t sample_language_count =
    (uint32_t)(sizeof(sample_languages) / sizeof(sample_languages[0]));

const char sample_own_company_name[] = "Kompas CRM Consultancy B.V.";
const char sample_own_company_domain[] = "kompas-crm.example";

/* ---- Roles, products and mail --------------------------------------- */

static const char *const job_titles[] = {
    "Managing director", "Sales manager",      "Account manager",
    "Purchasing manager", "Office manager",    "CFO",
    "IT manager",        "Marketing coordinator", "HR adviser",
    "Project leader",    "Consultant",         "Controller",
    "Customer service",  "Operations manager", "Editor",
};

static const char *const departments[] = {
    "Head office", "Sales", "Finance", "IT department", "Purchasing",
};

static const char *const products[] = {
    "CRM Online",    "Mail Module",         "Web Forms",
    "Mobile App",    "Analytics Pack",      "Data Import Service",
    "Support Plus",  "Integration Kit",     "Archive Module",
    "Training Day",
};

static const char *const private_mail_domains[] = {
    "mail.example", "post.example", "inbox.example", "webmail.example",
};

const struct sample_list sample_job_titles = LIST(job_titles);
const struct sample_list sample_departments = LIST(departments);
const struct sample_list sample_products = LIST(products);
const struct sample_list sample_private_mail_domains =
    LIST(private_mail_domains);

/* ---- Activity texts ------------------------------------------------- */

static const char *const meeting_texts[] = {
    "Meeting about $P",     "Quarterly review",   "Kick-off meeting $P",
    "Demo of $P",           "Workshop on data quality",
    "Visit at $C",          "Contract negotiation",
};

static const char *const call_texts[] = {
    "Follow-up call",       "Call about the offer for $P",
    "Support call: $P login problem", "Called about an overdue invoice",
    "Introductory call",    "Call to plan the $P roll-out",
};

static const char *const task_texts[] = {
    "Send offer for $P",    "Prepare contract renewal",
    "Update contact details", "Check credit limit",
    "Prepare demo environment", "Send a copy of the invoice",
};

static const char *const email_texts[] = {
    "E-mail: price list sent", "E-mail: brochure $P",
    "Reply to the newsletter", "E-mail: meeting confirmation",
    "E-mail: question about $P",
};

static const char *const document_texts[] = {
    "Offer $P", "Contract $P $Y", "Meeting notes", "Order confirmation $P",
    "Service agreement $Y",
};

static const char *const personal_meeting_texts[] = {
    "Meeting with $N about $P", "Lunch with $F", "Visit $N at $C",
    "Demo of $P for $N",
};

static const char *const personal_call_texts[] = {
    "Called $F about the offer", "Left a voicemail for $F",
    "$N asked to be called back", "Call with $F: renewal of $P",
};

static const char *const personal_task_texts[] = {
    "Remind $F about the survey", "Send $N the signed contract",
    "Ask $F for a reference",
};

static const char *const personal_email_texts[] = {
    "E-mail to $N: brochure $P", "$F replied to the newsletter",
    "E-mail from $N about an invoice",
};

static const char *const personal_document_texts[] = {
    "Letter to $N", "Offer $P for $N", "Meeting notes with $F",
};

const struct sample_list sample_activity_texts[5] = {
    LIST(meeting_texts), LIST(call_texts), LIST(task_texts),
    LIST(email_texts),   LIST(document_texts),
};

const struct sample_list sample_personal_activity_texts[5] = {
    LIST(personal_meeting_texts), LIST(personal_call_texts),
    LIST(personal_task_texts),    LIST(personal_email_texts),
    LIST(personal_document_texts),
};

static const char *const document_bodies[] = {
    "Dear $N,\n\nThank you for your interest in $P. Please find our offer "
    "below. The prices are valid for 30 days.\n\nKind regards,\n"
    "Kompas CRM Consultancy",
    "Dear $F,\n\nAs agreed, this letter confirms the renewal of $P for "
    "$Y.\n\nKind regards,\nKompas CRM Consultancy",
    "Notes of the meeting with $N ($C).\n\n1. Status of $P\n"
    "2. Planning for $Y\n3. Questions and actions",
    "Order confirmation for $C: $P, delivery as discussed with $F.",
};

static const char *const sale_headings[] = {
    "$P licences", "$P upgrade",      "Service contract $Y",
    "Consulting hours $Y", "Training $P", "$P renewal $Y",
};

static const char *const project_names[] = {
    "$P roll-out",       "Website relaunch $Y", "Data migration $Y",
    "GDPR clean-up $Y",  "Customer portal $Y",  "Partner programme $Y",
    "Mailing campaign $Y",
};

static const char *const consent_comments[] = {
    "Signed up at a trade fair", "Newsletter form on the website",
    "Agreed in the contract",    "Asked by phone",
    "Imported from the web shop",
};

static const char *const withdrawal_comments[] = {
    "Withdrew by replying to a newsletter", "Used the unsubscribe link",
    "Asked by phone to stop e-mails",
};

const struct sample_list sample_document_bodies = LIST(document_bodies);
const struct sample_list sample_sale_headings = LIST(sale_headings);
const struct sample_list sample_project_names = LIST(project_names);
const struct sample_list sample_consent_comments = LIST(consent_comments);
const struct sample_list sample_withdrawal_comments =
    LIST(withdrawal_comments);
