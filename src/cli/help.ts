/** The texts of `unplugin-upscale --help` and of each command's `--help`. */
export const HELP = {
  main: `Usage: unplugin-upscale <command> [options]

Commands:
  enhance <files…>   enhance images with the same engine and cache as the bundler plugin
  cache stats        what the cache holds
  cache prune        remove entries unused for long, or beyond a size
  cache clear        remove the whole cache

Run 'unplugin-upscale <command> --help' for its options.
Exit codes: 0 done, 1 an image or the cache failed, 2 wrong usage.`,
  enhance: `Usage: unplugin-upscale enhance <files, folders, 'globs' or URLs…> [options]

Enhances each image and writes <name>@<n>x.<ext> to --out. A folder is walked for images, its
subfolders kept under --out; a quoted glob ('src/**/*.jpg') is expanded the same way on every
shell. Two sources that would be written to one path stop the command before anything is written.
An image already in the cache costs nothing.

Options:
  --scale <auto|1|2|4>   enlargement (default auto: long side ≤ 512 → 4x, ≤ 1024 → 2x, else 1x)
  --type <clean|face>    kind of image (default clean)
  --format <original|jpeg|png|webp|avif>   output format (default original)
  --quality <1-100>      encoder quality
  --out <dir>            where to write (default ./upscaled)
  --dir <dir>            cache directory (default .upscale-cache beside package.json)
  --provider <auto|api|local>   engine (default auto: the API when UPSCALE_API_TOKEN is set)
  --allow <url glob>     allow remote sources matching it, e.g. 'https://cms.example.com/media/**'
                         (repeatable; an https source goes to the API as image_url)
  --offline              never call the API; fail for images not in the cache
  --dry-run              call nothing; list what would be sent to the API
  --quiet                print errors only
  --json                 print one JSON manifest (source, file, src, width, height, format,
                         scale, type, key, cached) instead of a line per image
  -h, --help             this text

Environment: UPSCALE_API_TOKEN, UPSCALE_API_URL, UPSCALE_OFFLINE=1, UPSCALE_DRY_RUN=1.`,
  stats: `Usage: unplugin-upscale cache stats [--dir <dir>] [--json]

Prints the number of entries, their size, and how recently they were used.`,
  prune: `Usage: unplugin-upscale cache prune [--dir <dir>] [--max-age <days>] [--max-size <MB>]

Removes entries unused for more than --max-age days (default 180), then the least recently used
until the cache fits in --max-size megabytes (default: no limit).`,
  clear: `Usage: unplugin-upscale cache clear [--dir <dir>]

Removes every entry of the cache directory, and the directory.`,
}
