"""One reader per official source layout. Each turns a raw file into tidy, validated rows."""
