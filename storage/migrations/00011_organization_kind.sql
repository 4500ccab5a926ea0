-- +goose Up
-- What an organisation is: a prosecutor's office (PROSECUTION), an advocacy organisation
-- (ADVOCACY) or an interpreters' agency (INTERPRETING). It decides which roles its members may
-- have (courtside.KindForRole). '' is an organisation with no member yet to say; its first
-- member's role sets it.
ALTER TABLE organizations ADD COLUMN kind TEXT NOT NULL DEFAULT ''
    CHECK (kind IN ('', 'PROSECUTION', 'ADVOCACY', 'INTERPRETING'));

-- Existing organisations take their kind from what they hold (an office owns cases, an
-- advocacy organisation serves victims), else from the role of their first member.
UPDATE organizations SET kind = CASE
    WHEN EXISTS (SELECT 1 FROM cases c WHERE c.organization_id = organizations.id) THEN 'PROSECUTION'
    WHEN EXISTS (SELECT 1 FROM victims v WHERE v.organization_id = organizations.id) THEN 'ADVOCACY'
    ELSE COALESCE((SELECT CASE u.role WHEN 'PROSECUTOR' THEN 'PROSECUTION' WHEN 'COORDINATOR' THEN 'ADVOCACY'
            WHEN 'ADVOCATE' THEN 'ADVOCACY' WHEN 'INTERPRETER' THEN 'INTERPRETING' END
        FROM users u WHERE u.organization_id = organizations.id AND u.role <> 'ADMIN' ORDER BY u.id LIMIT 1), '')
    END;

-- +goose Down
ALTER TABLE organizations DROP COLUMN kind;
