-- The default CRM schema that `lethe init` creates.
--
-- Table and column names follow the CRM that Lethe was modelled on: a
-- company is a `contact`, an activity of any kind is an `appointment`.
-- Dates are ISO-8601 UTC text ('YYYY-MM-DD HH:MM:SS'). A private person
-- (one with no company) has a NULL contact_id, so that the foreign key can
-- be declared and enforced. Every foreign key says what happens to the
-- child row when its parent goes; scripts/models/crm.lua states the same
-- delete rules for the planner.
--
-- The host runs this file inside one transaction and then records the
-- schema version in lethe_meta.

CREATE TABLE category (
    category_id INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    rank        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE business (
    business_id INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE
);

CREATE TABLE contact (
    contact_id   INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    department   TEXT,
    orgnr        TEXT,
    category_idx INTEGER REFERENCES category (category_id),
    business_idx INTEGER REFERENCES business (business_id),
    registered   TEXT NOT NULL,
    updated      TEXT,
    nomailing    INTEGER NOT NULL DEFAULT 0 CHECK (nomailing IN (0, 1))
);

CREATE TABLE person (
    person_id       INTEGER PRIMARY KEY,
    contact_id      INTEGER REFERENCES contact (contact_id) ON DELETE CASCADE,
    firstname       TEXT,
    middlename      TEXT,
    lastname        TEXT,
    title           TEXT,
    birthyear       INTEGER,
    birthmonth      INTEGER CHECK (birthmonth BETWEEN 1 AND 12),
    birthday        INTEGER CHECK (birthday BETWEEN 1 AND 31),
    category_idx    INTEGER REFERENCES category (category_id),
    registered      TEXT NOT NULL,
    updated         TEXT,
    nomailing       INTEGER NOT NULL DEFAULT 0 CHECK (nomailing IN (0, 1)),
    blockEmarketing INTEGER NOT NULL DEFAULT 0
        CHECK (blockEmarketing IN (0, 1))
);

-- A CRM user. Every user has a person row, and that person is never
-- deleted while the user exists.
CREATE TABLE associate (
    associate_id INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    person_id    INTEGER NOT NULL UNIQUE
        REFERENCES person (person_id) ON DELETE RESTRICT,
    registered   TEXT NOT NULL
);

CREATE TABLE project (
    project_id   INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    status_idx   INTEGER NOT NULL DEFAULT 1,
    done         INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    endDate      TEXT,
    associate_id INTEGER REFERENCES associate (associate_id),
    registered   TEXT NOT NULL
);

-- status: 1 open, 2 sold, 3 lost, 4 stalled.
CREATE TABLE sale (
    sale_id      INTEGER PRIMARY KEY,
    contact_id   INTEGER REFERENCES contact (contact_id) ON DELETE CASCADE,
    person_id    INTEGER REFERENCES person (person_id) ON DELETE SET NULL,
    project_id   INTEGER REFERENCES project (project_id) ON DELETE SET NULL,
    associate_id INTEGER REFERENCES associate (associate_id),
    heading      TEXT,
    saledate     TEXT NOT NULL,
    amount       REAL NOT NULL DEFAULT 0,
    status       INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),
    registered   TEXT NOT NULL
);

-- Every activity. type: 1 meeting, 2 call, 3 task, 4 e-mail, 5 document.
-- status: 1 not started, 2 started, 3 completed. direction: 1 incoming,
-- 2 outgoing, NULL unknown. activeDate is the date that counts as the
-- activity's date for "last activity".
CREATE TABLE appointment (
    appointment_id INTEGER PRIMARY KEY,
    contact_id     INTEGER REFERENCES contact (contact_id) ON DELETE CASCADE,
    person_id      INTEGER REFERENCES person (person_id) ON DELETE CASCADE,
    project_id     INTEGER REFERENCES project (project_id) ON DELETE SET NULL,
    sale_id        INTEGER REFERENCES sale (sale_id) ON DELETE SET NULL,
    associate_id   INTEGER REFERENCES associate (associate_id),
    type           INTEGER NOT NULL CHECK (type BETWEEN 1 AND 5),
    status         INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
    direction      INTEGER CHECK (direction IN (1, 2)),
    do_by          TEXT,
    activeDate     TEXT NOT NULL,
    description    TEXT,
    registered     TEXT NOT NULL
);

CREATE TABLE document (
    document_id    INTEGER PRIMARY KEY,
    appointment_id INTEGER NOT NULL
        REFERENCES appointment (appointment_id) ON DELETE CASCADE,
    header         TEXT NOT NULL,
    body           TEXT,
    registered     TEXT NOT NULL
);

CREATE TABLE consentpurpose (
    consentpurpose_id INTEGER PRIMARY KEY,
    key               TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL
);

CREATE TABLE legalbase (
    legalbase_id INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL
);

CREATE TABLE consentsource (
    consentsource_id INTEGER PRIMARY KEY,
    key              TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL
);

-- One row per person and purpose.
CREATE TABLE consentperson (
    consentperson_id  INTEGER PRIMARY KEY,
    person_id         INTEGER NOT NULL
        REFERENCES person (person_id) ON DELETE CASCADE,
    consentpurpose_id INTEGER NOT NULL
        REFERENCES consentpurpose (consentpurpose_id),
    legalbase_id      INTEGER NOT NULL REFERENCES legalbase (legalbase_id),
    consentsource_id  INTEGER REFERENCES consentsource (consentsource_id),
    comment           TEXT,
    registered        TEXT NOT NULL,
    updated           TEXT,
    UNIQUE (person_id, consentpurpose_id)
);

-- E-mail addresses, phone numbers and postal addresses belong to a company
-- or to a person.
CREATE TABLE email (
    email_id   INTEGER PRIMARY KEY,
    contact_id INTEGER REFERENCES contact (contact_id) ON DELETE CASCADE,
    person_id  INTEGER REFERENCES person (person_id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    rank       INTEGER NOT NULL DEFAULT 1,
    CHECK (contact_id IS NOT NULL OR person_id IS NOT NULL)
);

CREATE TABLE phone (
    phone_id   INTEGER PRIMARY KEY,
    contact_id INTEGER REFERENCES contact (contact_id) ON DELETE CASCADE,
    person_id  INTEGER REFERENCES person (person_id) ON DELETE CASCADE,
    number     TEXT NOT NULL,
    rank       INTEGER NOT NULL DEFAULT 1,
    CHECK (contact_id IS NOT NULL OR person_id IS NOT NULL)
);

CREATE TABLE address (
    address_id INTEGER PRIMARY KEY,
    contact_id INTEGER REFERENCES contact (contact_id) ON DELETE CASCADE,
    person_id  INTEGER REFERENCES person (person_id) ON DELETE CASCADE,
    street     TEXT,
    zipcode    TEXT,
    city       TEXT,
    country    TEXT,
    CHECK (contact_id IS NOT NULL OR person_id IS NOT NULL)
);

-- Saved selections. kind: 0 static, 1 dynamic, 2 combined. A combined
-- selection names a left and a right selection and an operation.
CREATE TABLE selection (
    selection_id INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),
    entity       TEXT NOT NULL,
    criteria     TEXT,
    left_id      INTEGER REFERENCES selection (selection_id),
    right_id     INTEGER REFERENCES selection (selection_id),
    operation    TEXT CHECK (operation IN ('union', 'intersect',
                     'left_minus_right', 'right_minus_left',
                     'symmetric_difference')),
    associate_id INTEGER REFERENCES associate (associate_id),
    registered   TEXT NOT NULL
);

CREATE TABLE selectionmember (
    selectionmember_id INTEGER PRIMARY KEY,
    selection_id       INTEGER NOT NULL
        REFERENCES selection (selection_id) ON DELETE CASCADE,
    contact_id         INTEGER REFERENCES contact (contact_id)
        ON DELETE CASCADE,
    person_id          INTEGER REFERENCES person (person_id)
        ON DELETE CASCADE
);

-- Indexes for the selection queries: every foreign key column, and the
-- dates that retention criteria test.
CREATE INDEX person_contact ON person (contact_id);
CREATE INDEX person_category ON person (category_idx);
CREATE INDEX person_registered ON person (registered);
CREATE INDEX contact_category ON contact (category_idx);
CREATE INDEX contact_registered ON contact (registered);
CREATE INDEX project_associate ON project (associate_id);
CREATE INDEX sale_contact ON sale (contact_id, saledate);
CREATE INDEX sale_person ON sale (person_id, saledate);
CREATE INDEX sale_project ON sale (project_id);
CREATE INDEX sale_associate ON sale (associate_id);
CREATE INDEX appointment_contact ON appointment (contact_id, activeDate);
CREATE INDEX appointment_person ON appointment (person_id, activeDate);
CREATE INDEX appointment_project ON appointment (project_id);
CREATE INDEX appointment_sale ON appointment (sale_id);
CREATE INDEX appointment_associate ON appointment (associate_id);
CREATE INDEX document_appointment ON document (appointment_id);
CREATE INDEX consentperson_purpose
    ON consentperson (consentpurpose_id, legalbase_id);
CREATE INDEX consentperson_legalbase ON consentperson (legalbase_id);
CREATE INDEX consentperson_source ON consentperson (consentsource_id);
CREATE INDEX email_contact ON email (contact_id);
CREATE INDEX email_person ON email (person_id);
CREATE INDEX phone_contact ON phone (contact_id);
CREATE INDEX phone_person ON phone (person_id);
CREATE INDEX address_contact ON address (contact_id);
CREATE INDEX address_person ON address (person_id);
CREATE INDEX selection_left ON selection (left_id);
CREATE INDEX selection_right ON selection (right_id);
CREATE INDEX selection_associate ON selection (associate_id);
CREATE INDEX selectionmember_selection ON selectionmember (selection_id);
CREATE INDEX selectionmember_contact ON selectionmember (contact_id);
CREATE INDEX selectionmember_person ON selectionmember (person_id);

-- Full-text indexes over activity and document text. They are external
-- content tables: the text lives once, in appointment and document, and the
-- triggers keep the index in step, including on delete, so that erased text
-- leaves the index too.
CREATE VIRTUAL TABLE appointment_fts USING fts5 (
    description, content = 'appointment', content_rowid = 'appointment_id'
);

CREATE TRIGGER appointment_fts_insert AFTER INSERT ON appointment BEGIN
    INSERT INTO appointment_fts (rowid, description)
    VALUES (new.appointment_id, new.description);
END;

CREATE TRIGGER appointment_fts_delete AFTER DELETE ON appointment BEGIN
    INSERT INTO appointment_fts (appointment_fts, rowid, description)
    VALUES ('delete', old.appointment_id, old.description);
END;

CREATE TRIGGER appointment_fts_update AFTER UPDATE OF description
    ON appointment BEGIN
    INSERT INTO appointment_fts (appointment_fts, rowid, description)
    VALUES ('delete', old.appointment_id, old.description);
    INSERT INTO appointment_fts (rowid, description)
    VALUES (new.appointment_id, new.description);
END;

CREATE VIRTUAL TABLE document_fts USING fts5 (
    header, body, content = 'document', content_rowid = 'document_id'
);

CREATE TRIGGER document_fts_insert AFTER INSERT ON document BEGIN
    INSERT INTO document_fts (rowid, header, body)
    VALUES (new.document_id, new.header, new.body);
END;

CREATE TRIGGER document_fts_delete AFTER DELETE ON document BEGIN
    INSERT INTO document_fts (document_fts, rowid, header, body)
    VALUES ('delete', old.document_id, old.header, old.body);
END;

CREATE TRIGGER document_fts_update AFTER UPDATE OF header, body
    ON document BEGIN
    INSERT INTO document_fts (document_fts, rowid, header, body)
    VALUES ('delete', old.document_id, old.header, old.body);
    INSERT INTO document_fts (rowid, header, body)
    VALUES (new.document_id, new.header, new.body);
END;

-- Reference data that every CRM database starts with.
INSERT INTO category (category_id, name, rank) VALUES
    (1, 'Prospect', 1),
    (2, 'Customer', 2),
    (3, 'Lost customer', 3),
    (4, 'Partner', 4),
    (5, 'Supplier', 5),
    (6, 'Press', 6);

INSERT INTO business (business_id, name) VALUES
    (1, 'IT'),
    (2, 'Retail'),
    (3, 'Manufacturing'),
    (4, 'Finance'),
    (5, 'Health care'),
    (6, 'Public sector'),
    (7, 'Consulting');

INSERT INTO consentpurpose (consentpurpose_id, key, name) VALUES
    (1, 'STORE', 'Store personal data'),
    (2, 'EMARKETING', 'E-marketing');

INSERT INTO legalbase (legalbase_id, key, name) VALUES
    (1, 'CONSENT', 'Consent'),
    (2, 'LEGITIMATE_INTEREST', 'Legitimate interest'),
    (3, 'CONTRACT', 'Contract'),
    (4, 'LEGAL_OBLIGATION', 'Legal obligation'),
    (5, 'WITHDRAWN', 'Withdrawn consent'),
    (6, 'EMPLOYMENT', 'Employment');

INSERT INTO consentsource (consentsource_id, key, name) VALUES
    (1, 'USER', 'Registered by a user'),
    (2, 'WEBFORM', 'Web form'),
    (3, 'API', 'Integration');
