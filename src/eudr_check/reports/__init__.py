"""Reports: findings tables, repaired plot files and EU Information System exports."""
