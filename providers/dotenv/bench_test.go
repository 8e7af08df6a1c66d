package dotenv_test

import (
	"context"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/benchconfig"
	"github.com/strata-go/strata/providers/dotenv"
)

// BenchmarkLoad reads the .env file of the load benchmarks: twenty settings of
// a 40-field configuration, with comments.
func BenchmarkLoad(b *testing.B) {
	schema, err := config.SchemaFor[benchconfig.Config]("APP_")
	if err != nil {
		b.Fatal(err)
	}
	layer := dotenv.File(benchconfig.WriteDotenv(b), nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		vals, err := layer.Load(ctx, schema)
		if err != nil || len(vals) != 20 {
			b.Fatal(len(vals), err)
		}
	}
}
