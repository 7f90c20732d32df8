"""The declarative recipes shipped with chartfix (YAML; see recipe.schema.json)."""
