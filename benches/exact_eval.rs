//! Exact evaluator timings on the reference size: `k = 3`, widths
//! 50/500, `m = 100`.

use criterion::{criterion_group, criterion_main, Criterion};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::exact::eval::ExactNet;
use hvcert::exact::fixed::{Fx, FxN, FxS};
use hvcert::format::network::Measurement;
use num_bigint::BigInt;
use num_rational::BigRational;

fn bench(c: &mut Criterion) {
    let net = sample_network(&SampleSpec {
        latent: 3,
        widths: vec![50, 500],
        measurement: Measurement::Matrix { m: 100 },
        seed: 1,
        target: None,
    });
    let en = ExactNet::new(&net).unwrap();
    let x: Vec<BigRational> = [1, -2, 3]
        .iter()
        .map(|&v| BigRational::new(BigInt::from(v), BigInt::from(7)))
        .collect();
    let p = en.strict_pattern(&x).unwrap();
    let (q, b) = en.quadratic(&p).unwrap();
    eprintln!(
        "k=3 50/500 m=100: Q_P entries {} bits (2^{}), b_P entries {} bits (2^{}), Lambda_P {} bits",
        q.max_bits(),
        q.exp,
        b.max_bits(),
        b.exp,
        en.lambda(&p).unwrap().max_bits()
    );
    let mut g = c.benchmark_group("exact k3 50/500 m100");
    g.sample_size(20);
    g.bench_function("Q_P and b_P", |bch| bch.iter(|| en.quadratic(&p).unwrap()));
    g.bench_function("region point", |bch| {
        bch.iter(|| en.region_point(&p).unwrap())
    });
    g.bench_function("D_-vbar f(x)", |bch| {
        bch.iter(|| en.descent_derivative(&x).unwrap())
    });
    g.bench_function("ExactNet::new (y = A G(x*))", |bch| {
        bch.iter(|| ExactNet::new(&net).unwrap())
    });
    g.finish();

    // Fixed-width results back to `BigInt`: 1,500 entries (the size of
    // `R_2` at k = 3, n_2 = 500) of 100 to 124 bits, two limbs (the largest
    // entries of `R_2` on the shipped networks take 114 to 134 bits).
    let entries: Vec<Fx> = (0..1500i64)
        .map(|i| Fx::from_big(&(BigInt::from(i * 7919 - 5000) << 100)).unwrap())
        .collect();
    let mut g = c.benchmark_group("fixed width");
    g.bench_function("to_big, 1500 two-limb entries", |bch| {
        bch.iter(|| entries.iter().map(Fx::to_big).collect::<Vec<_>>())
    });
    // The shape of one rank-one flip of `M = A D R_2` at k = 3, m = 100:
    // 300 sums of about 200 bits (four limbs), each plus or minus a
    // product of a 68-bit entry of `A` and a 134-bit entry of `R_2`.
    let sums: Vec<Fx> = (0..300i64)
        .map(|i| Fx::from_big(&(BigInt::from(i * 7919 - 1_000_000) << 190)).unwrap())
        .collect();
    let a_col: Vec<Fx> = (0..100i64)
        .map(|i| Fx::from_big(&(BigInt::from(i * 104_729 - 5_000_000) << 45)).unwrap())
        .collect();
    let r_row: Vec<Fx> = (0..3i64)
        .map(|i| Fx::from_big(&(BigInt::from(i * 31 - 40) << 128)).unwrap())
        .collect();
    g.bench_function("add_mul, one rank-one flip of M (300 entries)", |bch| {
        bch.iter(|| rank_one_flip(&sums, &a_col, &r_row))
    });
    // The same in the stored width (256 bits), as the engine keeps `M`,
    // `R_2` and `A`.
    let short = |v: &[Fx]| -> Vec<FxS> { v.iter().map(|x| x.resize().unwrap()).collect() };
    let (sums_s, a_col_s, r_row_s) = (short(&sums), short(&a_col), short(&r_row));
    g.bench_function("add_mul, one rank-one flip of M, stored width", |bch| {
        bch.iter(|| rank_one_flip(&sums_s, &a_col_s, &r_row_s))
    });
    g.finish();
}

/// `sums` (100 rows of 3) plus or minus `a_col r_row^T`, row by row.
fn rank_one_flip<const L: usize>(
    sums: &[FxN<L>],
    a_col: &[FxN<L>],
    r_row: &[FxN<L>],
) -> Vec<FxN<L>> {
    let mut m = sums.to_vec();
    for (i, a) in a_col.iter().enumerate() {
        for (s, r) in m[3 * i..3 * i + 3].iter_mut().zip(r_row) {
            assert!(s.add_mul(a, r, i % 2 == 0));
        }
    }
    m
}

criterion_group!(benches, bench);
criterion_main!(benches);
